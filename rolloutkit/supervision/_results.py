"""Supervision's result types and frame schemas; a leaf: it imports no computation of the package."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

SLUG = "supervision"
TITLE = "Supervision"
#: The reviewed verdict that is not a failure mode but has its own limit (the charter's `shadow.max_agent_worse_rate`).
AGENT_WORSE = "agent_worse"
#: The playbook's target: the flag reaches 0% in under 60 seconds.
TARGET_SECONDS = 60.0

SAMPLE_SCHEMA = {"week": pl.Date, "week_label": pl.String, "days": pl.Int64, "interactions": pl.Int64,
                 "reviewed": pl.Int64, "sample_rate": pl.Float64, "target": pl.Float64, "reached": pl.Boolean}
RATES_SCHEMA = {"week": pl.Date, "week_label": pl.String, "metric": pl.String, "limit": pl.Float64,
                "zero_tolerance": pl.Boolean, "reviewed": pl.Int64, "events": pl.Int64, "rate": pl.Float64,
                "lower": pl.Float64, "upper": pl.Float64, "cum_reviewed": pl.Int64, "cum_events": pl.Int64,
                "cum_rate": pl.Float64, "cs_lower": pl.Float64, "cs_upper": pl.Float64, "status": pl.String}
LOG_SCHEMA = {"incident_id": pl.String, "day": pl.Date, "severity": pl.String, "kind": pl.String,
              "failure_mode": pl.String, "caught_by": pl.String, "status": pl.String, "closed_day": pl.Date,
              "hours_to_close": pl.Float64, "age_days": pl.Int64}
MARKER_SCHEMA = {"day": pl.Date, "incident_id": pl.String, "severity": pl.String, "kind": pl.String}
DRILL_SCHEMA = {"ts": pl.Datetime("us", "UTC"), "day": pl.Date, "actor": pl.String, "kind": pl.String,
                "seconds_to_zero": pl.Float64, "within_target": pl.Boolean}
HUMAN_PATH_SCHEMA = {"day": pl.Date, "human": pl.Int64, "agent": pl.Int64, "minimum": pl.Int64,
                     "below": pl.Boolean}
PRACTICE_SCHEMA = {"ts": pl.Datetime("us", "UTC"), "day": pl.Date, "actor": pl.String, "when": pl.String,
                   "stage_share": pl.Float64, "stage": pl.String, "seconds_to_zero": pl.Float64,
                   "within_target": pl.Boolean}
CAUGHT_SCHEMA = {"incident_id": pl.String, "day": pl.Date, "severity": pl.String, "kind": pl.String,
                 "failure_mode": pl.String, "caught_by": pl.String, "stage_share": pl.Float64, "stage": pl.String}
CAUGHT_COUNT_SCHEMA = {"stage_share": pl.Float64, "stage": pl.String, "severity": pl.String, "incidents": pl.Int64}
#: How a drill is placed against the day the flag first reached 100%.
BEFORE_FULL, AT_FULL = "before 100%", "at 100%"
#: The stage of an incident opened before the flag's first change.
BEFORE_FLAGS = "before the first flag"
AGENDA_SCHEMA = {"kind": pl.String, "id": pl.String, "what": pl.String, "severity": pl.String,
                 "status": pl.String, "opened": pl.Date, "owner": pl.String}


@dataclass(frozen=True, kw_only=True)
class DrillStatus:
    """The latest measured rollback and whether drilling is current (at least one every `max_days_between`)."""

    as_of: dt.date
    count: int
    within_target: int
    last_day: dt.date | None
    last_seconds: float | None
    last_within_target: bool | None
    days_since_last: int | None
    max_days_between: int
    target_seconds: float

    @property
    def overdue(self) -> bool:
        return self.days_since_last is None or self.days_since_last > self.max_days_between

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "count": self.count, "within_target": self.within_target,
                "last_day": self.last_day.isoformat() if self.last_day else None,
                "last_seconds": self.last_seconds, "last_within_target": self.last_within_target,
                "days_since_last": self.days_since_last, "max_days_between": self.max_days_between,
                "target_seconds": self.target_seconds, "overdue": self.overdue}

    def describe(self) -> str:
        if self.last_day is None:
            return "No rollback has been drilled yet."
        verdict = "within" if self.last_within_target else "over"
        overdue = f"; overdue (drill every {self.max_days_between} days)" if self.overdue else ""
        return (f"{self.count} rollback(s) measured, {self.within_target} within {self.target_seconds:g} s; "
                f"the last on {self.last_day.isoformat()} ({self.days_since_last} days ago) took "
                f"{self.last_seconds:.0f} s, {verdict} target{overdue}.")


@dataclass(frozen=True, kw_only=True)
class AgentLoad:
    agent: str
    as_of: dt.date
    traffic_share: float | None
    live: bool
    monthly_tasks: int


@dataclass(frozen=True, kw_only=True)
class AgentOpsScale:
    """A portfolio's production load and whether a dedicated AgentOps owner is due."""

    agents: tuple[AgentLoad, ...]
    production_agents: int
    monthly_tasks: int
    max_agents: int
    max_monthly_tasks: int
    dedicated_ownership_due: bool
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {"agents": [{**a.__dict__, "as_of": a.as_of.isoformat()} for a in self.agents],
                "production_agents": self.production_agents, "monthly_tasks": self.monthly_tasks,
                "max_agents": self.max_agents, "max_monthly_tasks": self.max_monthly_tasks,
                "dedicated_ownership_due": self.dedicated_ownership_due, "sentence": self.sentence}

    def describe(self) -> str:
        return self.sentence
