"""The canary's result types: daily counts, the stage view the checks read, and the readiness decision.

A leaf: it imports no computation of the package, so every other module can depend on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from rolloutkit.charter import Charter
from rolloutkit.checks import Check, find
from rolloutkit.text import plural, stage

Decision = Literal["expand", "hold", "rollback"]
#: Count columns every `CanaryCounts.daily` frame has (0 where the canary table cannot measure them).
COUNT_COLUMNS = ("n", "successes", "disallowed", "unreviewed", "over_actions", "over_dollars", "cost_usd",
                 "cost_n", "latency_ms_sum", "latency_ms_sumsq", "latency_n")
#: Float sums among the count columns; the others are integer counts.
FLOAT_COLUMNS = ("cost_usd", "latency_ms_sum", "latency_ms_sumsq")
#: Guardrail count columns, in words.
GUARDRAIL_WORDS = {"disallowed": "interactions with a disallowed action",
                   "unreviewed": "irreversible actions without review",
                   "over_actions": "sessions over the action limit", "over_dollars": "sessions over the dollar limit"}


def failure_column(mode: str) -> str:
    """The daily-count column of a failure mode: "wrong_route" → "fail__wrong_route"."""
    return f"fail__{mode}"


#: Incident severities that hold a stage while open.
BLOCKING_SEVERITIES = ("sev1", "sev2")
#: Columns of `CanaryCounts.incidents`: ids and categories only, never the free-text summary.
INCIDENT_SCHEMA = {"incident_id": pl.String, "opened_at": pl.Datetime("us", "UTC"), "day": pl.Date,
                   "closed_day": pl.Date, "severity": pl.String, "kind": pl.String}
#: Eval-task categories whose every regression holds a stage: a prior failure is a fixed failure come back, an
#: adversarial task a broken safety case. Typical and edge tasks flip from run to run; their regressions hold only
#: when the version regressed significantly overall (the eval set's own "blocks release").
BLOCKING_CATEGORIES = ("prior_failure", "adversarial")
#: Columns of `CanaryCounts.versions`: from `from_day` on, the live version and its eval-set regressions.
VERSION_SCHEMA = {"from_day": pl.Date, "version": pl.String, "source": pl.String, "baseline": pl.String,
                  "run_day": pl.Date, "regressed": pl.List(pl.String), "categories": pl.List(pl.String),
                  "fixed": pl.Int64, "significant": pl.Boolean, "p_text": pl.String}
#: Where the live version comes from, in words.
VERSION_SOURCES = {"canary": "the canary's agent_version column",
                   "evals": "the latest version run on the eval set"}


@dataclass(frozen=True)
class LiveVersion:
    """The agent version live on a day, where that is known from, and how it did on the eval set.

    `baseline` is the version run before it (None for the first); `regressed` the eval tasks the baseline passed
    and it fails, on the latest run of each, with their `categories`; `significant` whether that is a significant
    regression overall (`p_text` the McNemar test in words); `run_day` the day of its latest eval run, None when
    it was never run.
    """

    version: str
    source: str
    baseline: str | None
    run_day: dt.date | None
    regressed: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    fixed: int = 0
    significant: bool = False
    p_text: str = ""

    @property
    def holding(self) -> tuple[str, ...]:
        """The regressed tasks that hold a stage, each with its category: all of them after a significant
        regression, else those of `BLOCKING_CATEGORIES`."""
        return tuple(f"{task} ({category.replace('_', ' ')})" for task, category in zip(self.regressed,
                                                                                         self.categories, strict=True)
                     if self.significant or category in BLOCKING_CATEGORIES)

    @property
    def words(self) -> str:
        """"v1.2 (the latest version run on the eval set)"."""
        return f"{self.version} ({VERSION_SOURCES[self.source]})"


@dataclass(frozen=True)
class StageIncident:
    """An incident opened during the current stage: its id (a staff reference), severity, kind, day, state."""

    incident_id: str
    severity: str
    kind: str
    opened_on: dt.date
    open: bool

    @property
    def words(self) -> str:
        """"INC-0003 (sev3, customer escalation, closed)"."""
        state = "open" if self.open else "closed"
        return f"{self.incident_id} ({self.severity}, {self.kind.replace('_', ' ')}, {state})"

    def to_dict(self) -> dict[str, Any]:
        return {"incident_id": self.incident_id, "severity": self.severity, "kind": self.kind,
                "opened_on": self.opened_on.isoformat(), "open": self.open}


@dataclass(frozen=True, kw_only=True)
class CanaryCounts:
    """Daily counts per (day, segment, arm) plus the flag segments and stage epochs they map to.

    `daily`: day, seg, segment_start, arm, n, successes, one `fail__<mode>` column per failure mode, guardrail
    counts (`disallowed`, `unreviewed`: interactions with such actions; `over_actions`, `over_dollars`: sessions
    over the charter's limits, counted on their first day), `cost_usd`/`cost_n` (sum and count of reported costs)
    and `latency_ms_sum`/`latency_ms_sumsq`/`latency_n`. Agent and human rows both appear; a count the canary
    table cannot measure is 0 (see `guardrail_columns`, `has_cost`).
    `segments`: seg, start (UTC), start_day, share, kind, reason, epoch. Segment 0 is the time before the first
    flag row (share 0). `epochs`: epoch, start, start_day, share, kind, reason.
    What the workspace says beside the counts, for the `incidents` and `eval_regressions` checks (None: not given,
    or the workspace has no such table): `incidents` (`INCIDENT_SCHEMA`: opened up to `as_of`, `closed_day` null
    while open as of `as_of`) and `versions` (`VERSION_SCHEMA`: one row per day the live version or its eval
    results changed).
    """

    charter: Charter
    as_of: dt.date
    daily: pl.DataFrame
    segments: pl.DataFrame
    epochs: pl.DataFrame
    last_data_day: dt.date | None
    #: Guardrail counts the canary table has columns for.
    guardrail_columns: tuple[str, ...]
    has_cost: bool
    incidents: pl.DataFrame | None = None
    versions: pl.DataFrame | None = None
    #: Whether the workspace has an eval set (a live version may be known from the canary without one).
    has_evals: bool = False


@dataclass(frozen=True, kw_only=True)
class StageView:
    """The current stage as of a day: its epoch, days held, and per-day agent and human counts at this stage."""

    charter: Charter
    as_of: dt.date
    share: float
    started: dt.datetime | None
    started_day: dt.date | None
    change: str
    days_at_stage: int
    agent: pl.DataFrame
    human: pl.DataFrame
    srm_agent: int
    srm_total: int
    last_data_day: dt.date | None
    agent_per_day: float
    total_per_day: float
    #: Guardrail counts the canary table has columns for.
    guardrail_columns: tuple[str, ...] = ()
    #: Incidents opened at this stage up to the day; None without an incident log.
    incidents: tuple[StageIncident, ...] | None = None
    #: The live version on the day and its eval results; None when no version is known yet.
    live: LiveVersion | None = None
    #: Whether the workspace has an eval set at all (a live version may be known from the canary without one).
    has_evals: bool = False

    def totals(self, frame: pl.DataFrame, column: str) -> int:
        return int(frame[column].sum()) if frame.height else 0


@dataclass(frozen=True, kw_only=True)
class Readiness:
    """Today's canary decision, the checks behind it and the stage it applies to (`readiness --json`)."""

    agent: str
    as_of: dt.date
    stage: float
    stage_started: dt.datetime | None
    days_at_stage: int
    decision: Decision
    next_stage: float | None
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    days_needed: int | None
    overdue: bool
    max_hold_days: int
    #: The check that drove the decision (the first rollback condition, or the longest blocker of a hold).
    driver: str | None = None
    #: Why `days_needed` is missing or too long, and what would get there, in plain words.
    days_needed_note: str | None = None
    #: The smallest ladder share at which the blocking checks could pass within the hold window.
    share_needed: float | None = None
    stage_change: str = "start"
    final_stage: bool = False
    #: The live agent version on the day and where that is known from; None when unknown.
    live_version: LiveVersion | None = None
    #: Incidents opened at this stage (ids, severity, kind; never the summary); None without an incident log.
    stage_incidents: tuple[StageIncident, ...] | None = None

    @property
    def status(self) -> str:
        """The memo status: good = expand, warn = hold, bad = rollback; info for a healthy rollout at 100%."""
        if self.decision == "rollback":
            return "bad"
        if self.decision == "expand":
            return "good"
        return "info" if self.final_stage and not any(c.status == "fail" for c in self.checks) else "warn"

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent, "as_of": self.as_of.isoformat(), "stage": self.stage,
            "stage_started": self.stage_started.isoformat() if self.stage_started else None,
            "days_at_stage": self.days_at_stage, "decision": self.decision, "next_stage": self.next_stage,
            "reasons": list(self.reasons), "checks": [c.to_dict() for c in self.checks],
            "days_needed": self.days_needed, "overdue": self.overdue, "max_hold_days": self.max_hold_days,
            "driver": self.driver, "days_needed_note": self.days_needed_note, "share_needed": self.share_needed,
            "stage_change": self.stage_change, "final_stage": self.final_stage,
            "live_version": self.live_version.version if self.live_version else None,
            "live_version_source": self.live_version.source if self.live_version else None,
            "stage_incidents": (None if self.stage_incidents is None
                                else [i.to_dict() for i in self.stage_incidents]),
        }

    @property
    def title(self) -> str:
        """A short banner title: "Expand 40% → 80%", "Hold at 15%", "Roll back from 40%", "Stay at 100%"."""
        if self.decision == "rollback":
            return f"Roll back from {stage(self.stage)}"
        if self.decision == "expand":
            return f"Expand {stage(self.stage)} → {stage(self.next_stage or 1)}"
        if self.final_stage:
            return "Stay at 100% under supervision"
        return f"Hold at {stage(self.stage)}" + (" (overdue)" if self.overdue else "")

    def sentence(self) -> str:
        """The decision in one plain sentence (the memo headline)."""
        at = stage(self.stage)
        if self.decision == "rollback":
            return f"Roll back from {at} (day {self.days_at_stage} of the stage): {self.reasons[0]}"
        if self.decision == "expand":
            return (f"Expand from {at} to {stage(self.next_stage or 1)}: every check passed after "
                    f"{self.days_at_stage} days at {at}.")
        if self.stage == 0:
            return self.reasons[0]
        if self.final_stage:
            return f"Stay at 100%: {self.reasons[0]}"
        wait = (f"about {plural(self.days_needed, 'more day', 'more days')}" if self.days_needed is not None
                else (self.days_needed_note or "no estimate").split(":")[0].lower())
        overdue = " — overdue" if self.overdue else ""
        return f"Hold at {at} (day {self.days_at_stage}{overdue}; {wait}): {self.reasons[0]}"

    def context(self) -> list[str]:
        """What the card says beside the decision: the live version and this stage's incidents, in words."""
        lines = [f"Live agent version: {self.live_version.words}." if self.live_version
                 else "Live agent version: unknown (no agent_version column in the canary and no eval run)."]
        if self.stage_incidents is None:
            lines.append("Incidents: this workspace has no incident log.")
        elif self.stage_incidents:
            lines.append(f"Incidents opened at this stage: {', '.join(i.words for i in self.stage_incidents)}.")
        else:
            lines.append("No incident opened at this stage.")
        return lines

    def check(self, name: str) -> Check:
        """The check called `name`, e.g. "srm" or "failure_rate:wrong_route"."""
        return find(self.checks, name)

    def describe(self) -> str:
        lines = [f"{self.agent} as of {self.as_of}: {self.decision.upper()}", self.sentence(), ""]
        started = self.stage_started.date().isoformat() if self.stage_started else "-"
        lines.append(f"stage {stage(self.stage)} since {started} ({self.days_at_stage} days; max hold "
                     f"{self.max_hold_days}{', OVERDUE' if self.overdue else ''}); next stage: "
                     f"{stage(self.next_stage) if self.next_stage is not None else 'none'}")
        if self.days_needed is not None and self.decision == "hold":
            lines.append(f"days needed: {self.days_needed}")
        if self.days_needed_note:
            lines.append(self.days_needed_note)
        lines += self.context()
        lines += ["", "reasons:", *(f"  - {r}" for r in self.reasons), "", "checks:"]
        width = max(len(c.label) for c in self.checks)
        lines += [f"  {c.label:<{width}}  {c.status:<12}  {c.sentence}" for c in self.checks]
        return "\n".join(lines)
