"""The timeline's result types: the plan, its phases, the evidence and assumptions behind it, and progress.

A leaf: these types compute nothing from a workspace, so the planner, the progress tracker and the page can all
import them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import polars as pl

from rolloutkit.charter import RiskTier
from rolloutkit.text import json_rows, pct, plural

PhaseKind = Literal["setup", "shadow", "canary", "supervision"]
#: planned = still to come; skipped = no data while a later phase already started (0 days); rolled back = a canary
#: attempt that ended at 0%.
PhaseStatus = Literal["done", "skipped", "rolled back", "current", "planned"]
State = Literal["on_plan", "behind_plan", "ahead_of_plan"]
#: The playbook's typical weeks from prototype to 100%.
TYPICAL_WEEKS = (6, 12)


@dataclass(frozen=True, kw_only=True)
class Assumptions:
    """What the plan expects the agent to do, and where each number comes from."""

    daily_interactions: int
    failure_rates: Mapping[str, float]
    human_success: float
    success_diff: float
    agent_worse_rate: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failure_rates": dict(self.failure_rates)}


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """One check at one canary stage: trials and days until its confidence sequence passes (None = never)."""

    stage: str
    share: float
    check: str
    limit: float
    expected: float
    trials: int | None
    days: int | None


@dataclass(frozen=True, kw_only=True)
class Phase:
    name: str
    kind: PhaseKind
    start: dt.date
    end: dt.date
    days: int
    why: str
    share: float | None = None
    #: False for the supervision window: shown, not part of prototype-to-100%.
    counted: bool = True
    status: PhaseStatus = "planned"
    #: What may go wrong in this phase (a stage past the maximum hold, a readiness that can never pass).
    warning: str | None = None
    #: False when the phase's evidence can never be gathered at the expected rates.
    feasible: bool = True

    @property
    def ahead(self) -> bool:
        """Whether the phase is current or still to come: the phases a warning may be about."""
        return self.status in ("current", "planned")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "days": self.days, "why": self.why}


@dataclass(frozen=True, kw_only=True)
class Plan:
    agent: str
    risk_tier: RiskTier
    start: dt.date
    phases: tuple[Phase, ...]
    evidence: tuple[Evidence, ...]
    assumptions: Assumptions
    min_hold_days: int
    max_hold_days: int
    warnings: tuple[str, ...] = ()
    feasible: bool = True
    #: The day the plan follows what happened up to; None for a plan made from the charter alone.
    as_of: dt.date | None = None
    #: The plan as made at the start, with the phases that turned out skipped at 0 days: what ahead or behind
    #: is measured against. None for a plan made from the charter alone (it is its own baseline).
    baseline: Plan | None = None

    @property
    def at_start(self) -> Plan:
        """The plan as made at the start (this plan itself when it follows nothing yet)."""
        return self.baseline or self

    @property
    def hundred_percent(self) -> dt.date:
        """The day the agent takes all traffic: the end of the last counted phase."""
        return max(p.end for p in self.phases if p.counted)

    @property
    def reached_100(self) -> bool:
        """Whether every counted phase is behind: the agent takes all traffic."""
        return all(not p.ahead for p in self.phases if p.counted)

    @property
    def current_phase(self) -> str | None:
        return next((p.name for p in self.phases if p.status == "current"), None)

    @property
    def skipped(self) -> list[str]:
        return [p.name for p in self.phases if p.status == "skipped"]

    @property
    def total_days(self) -> int:
        return (self.hundred_percent - self.start).days

    @property
    def total_weeks(self) -> float:
        return round(self.total_days / 7, 1)

    @property
    def within_typical_range(self) -> bool:
        return TYPICAL_WEEKS[0] <= self.total_weeks <= TYPICAL_WEEKS[1]

    @property
    def range_text(self) -> str:
        low, high = TYPICAL_WEEKS
        if self.within_typical_range:
            return f"within the typical {low}–{high}"
        return f"{'below' if self.total_weeks < low else 'above'} the typical {low}–{high}"

    def table(self) -> pl.DataFrame:
        """The plan table: one row per phase (the supervision window last, not counted)."""
        return pl.DataFrame(
            [{"phase": p.name, "kind": p.kind, "status": p.status, "start": p.start, "end": p.end, "days": p.days,
              "counted": p.counted, "why": p.why} for p in self.phases],
            schema={"phase": pl.String, "kind": pl.String, "status": pl.String, "start": pl.Date, "end": pl.Date,
                    "days": pl.Int64, "counted": pl.Boolean, "why": pl.String})

    def evidence_table(self) -> pl.DataFrame:
        """Per canary stage and check: the limit, the expected value, trials and days needed (null = never)."""
        return pl.DataFrame([asdict(e) for e in self.evidence], schema={
            "stage": pl.String, "share": pl.Float64, "check": pl.String, "limit": pl.Float64,
            "expected": pl.Float64, "trials": pl.Int64, "days": pl.Int64})

    def notes(self) -> list[str]:
        """The warnings in plain words, or one line saying there are none."""
        if self.warnings:
            return list(self.warnings)
        if self.reached_100:
            return [f"The ladder is complete: 100% since {self.hundred_percent}."]
        remaining = "remaining " if any(p.kind == "canary" and not p.ahead for p in self.phases) else ""
        return [f"Every {remaining}canary stage gathers its evidence within the {self.max_hold_days}-day "
                "maximum hold."]

    def assumption_lines(self) -> list[str]:
        """What the plan assumes, one plain line each."""
        a = self.assumptions
        limits = {e.check.removeprefix("failure_rate:"): e.limit for e in self.evidence
                  if e.check.startswith("failure_rate:")}
        lines = [f"Traffic: {a.daily_interactions:,} interactions a day (agent and human).",
                 f"Source of the expected rates: {a.source}."]
        lines += [f"{mode}: expected at {pct(rate)} against a limit of {pct(limits[mode])}."
                  for mode, rate in a.failure_rates.items() if mode in limits]
        lines.append(f"Success: humans at {pct(a.human_success)}, the agent {success_gap(a.success_diff)}.")
        lines.append(f"Shadow agent-worse rate: expected at {pct(a.agent_worse_rate)}.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent, "start": self.start.isoformat(), "phases": [p.to_dict() for p in self.phases],
            "total_weeks": self.total_weeks, "within_typical_range": self.within_typical_range,
            "warnings": list(self.warnings), "hundred_percent": self.hundred_percent.isoformat(),
            "as_of": self.as_of.isoformat() if self.as_of else None, "current_phase": self.current_phase,
            "skipped": self.skipped, "planned_at_start": self.at_start.hundred_percent.isoformat(),
            "risk_tier": self.risk_tier, "feasible": self.feasible, "assumptions": self.assumptions.to_dict(),
            "evidence": json_rows(self.evidence_table()),
        }

    def describe(self) -> str:
        verb = "reached" if self.reached_100 else "planned"
        lines = [f"{self.agent}: 100% {verb} on {self.hundred_percent} ({self.total_weeks} weeks from "
                 f"{self.start}, {self.range_text}-week range; risk tier {self.risk_tier})"]
        if self.baseline:
            lines.append(f"as of {self.as_of}; the plan at the start said {self.baseline.hundred_percent}")
        lines.append("")
        for p in self.phases:
            lines.append(f"  {p.name:<34} {p.start} → {p.end}  {p.days:>3} d  {p.status:<11} {p.why}")
        lines += [""] + [f"warning: {w}" for w in self.warnings]
        a = self.assumptions
        rates = ", ".join(f"{k} {pct(v)}" for k, v in a.failure_rates.items())
        lines.append(f"assumed ({a.source}): {a.daily_interactions:,} interactions a day; {rates}; human success "
                     f"{pct(a.human_success)}, the agent {success_gap(a.success_diff)}")
        return "\n".join(lines).rstrip()


def success_gap(diff: float) -> str:
    """The agent's planned success against the humans', in words: "equal to them", "1% (absolute) above them"."""
    if diff == 0:
        return "equal to them"
    return f"{pct(abs(diff))} (absolute) {'above' if diff > 0 else 'below'} them"


@dataclass(frozen=True, kw_only=True, eq=False)
class Progress:
    as_of: dt.date
    #: One row per counted phase: planned (at the start) and actual start/end, slip_days (actual − planned
    #: start), status.
    table: pl.DataFrame
    current_phase: str
    projected_100: dt.date
    planned_100: dt.date
    reached_100: dt.date | None
    rolled_back_on: dt.date | None

    @property
    def started(self) -> bool:
        """Whether any phase has actually started (an eval run, a shadow interaction or a flag at a stage)."""
        return bool(self.table["actual_start"].is_not_null().any())

    @property
    def slip_days(self) -> int:
        """Days the 100% date has moved: positive = behind plan."""
        return (self.projected_100 - self.planned_100).days

    @property
    def state(self) -> State:
        return "behind_plan" if self.slip_days > 0 else "ahead_of_plan" if self.slip_days < 0 else "on_plan"

    @property
    def slip_text(self) -> str:
        days = plural(abs(self.slip_days), "day")
        return ("on plan" if self.slip_days == 0 else f"{days} behind plan" if self.slip_days > 0
                else f"{days} ahead of plan")

    @property
    def sentence(self) -> str:
        said = f"the plan at the start said {self.planned_100}"
        if self.reached_100:
            return f"reached 100% on {self.reached_100}, {self.slip_text} ({said})"
        if self.rolled_back_on:
            return (f"rolled back to 0% on {self.rolled_back_on}; restarting the ladder puts 100% on "
                    f"{self.projected_100}, {self.slip_text}")
        return f"{self.slip_text} (in {self.current_phase}; {said})"

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "current_phase": self.current_phase,
                "projected_100": self.projected_100.isoformat(), "planned_100": self.planned_100.isoformat(),
                "reached_100": self.reached_100.isoformat() if self.reached_100 else None,
                "rolled_back_on": self.rolled_back_on.isoformat() if self.rolled_back_on else None,
                "slip_days": self.slip_days, "state": self.state, "phases": json_rows(self.table)}

    def describe(self) -> str:
        lines = [f"as of {self.as_of}: {self.sentence}"]
        for r in self.table.iter_rows(named=True):
            actual = r["actual_start"] or "—"
            slip = "" if r["slip_days"] is None else f"  {r['slip_days']:+d} d"
            lines.append(f"  {r['phase']:<22} planned {r['planned_start']}  actual {actual}{slip}  {r['status']}")
        return "\n".join(lines)
