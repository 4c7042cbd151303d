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
from rolloutkit.text import json_rows, plural

PhaseKind = Literal["setup", "shadow", "canary", "supervision"]
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

    @property
    def hundred_percent(self) -> dt.date:
        """The day the agent takes all traffic: the end of the last counted phase."""
        return max(p.end for p in self.phases if p.counted)

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
            [{"phase": p.name, "kind": p.kind, "start": p.start, "end": p.end, "days": p.days,
              "counted": p.counted, "why": p.why} for p in self.phases],
            schema={"phase": pl.String, "kind": pl.String, "start": pl.Date, "end": pl.Date, "days": pl.Int64,
                    "counted": pl.Boolean, "why": pl.String})

    def evidence_table(self) -> pl.DataFrame:
        """Per canary stage and check: the limit, the expected value, trials and days needed (null = never)."""
        return pl.DataFrame([asdict(e) for e in self.evidence], schema={
            "stage": pl.String, "share": pl.Float64, "check": pl.String, "limit": pl.Float64,
            "expected": pl.Float64, "trials": pl.Int64, "days": pl.Int64})

    def notes(self) -> list[str]:
        """The warnings in plain words, or one line saying there are none."""
        return list(self.warnings) or [
            f"Every canary stage gathers its evidence within the {self.max_hold_days}-day maximum hold."]

    def assumption_lines(self) -> list[str]:
        """What the plan assumes, one plain line each."""
        a = self.assumptions
        limits = {e.check.removeprefix("failure_rate:"): e.limit for e in self.evidence
                  if e.check.startswith("failure_rate:")}
        lines = [f"Traffic: {a.daily_interactions:,} interactions a day (agent and human).",
                 f"Source of the expected rates: {a.source}."]
        lines += [f"{mode}: expected at {rate:.2%} against a limit of {limits[mode]:.2%}."
                  for mode, rate in a.failure_rates.items() if mode in limits]
        lines.append(f"Success: humans at {a.human_success:.1%}, the agent {a.success_diff:+.1%} points from them.")
        lines.append(f"Shadow agent-worse rate: expected at {a.agent_worse_rate:.1%}.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent, "start": self.start.isoformat(), "phases": [p.to_dict() for p in self.phases],
            "total_weeks": self.total_weeks, "within_typical_range": self.within_typical_range,
            "warnings": list(self.warnings), "hundred_percent": self.hundred_percent.isoformat(),
            "risk_tier": self.risk_tier, "feasible": self.feasible, "assumptions": self.assumptions.to_dict(),
            "evidence": json_rows(self.evidence_table()),
        }

    def describe(self) -> str:
        lines = [f"{self.agent}: 100% planned on {self.hundred_percent} ({self.total_weeks} weeks from "
                 f"{self.start}, {self.range_text}-week range; risk tier {self.risk_tier})", ""]
        for p in self.phases:
            lines.append(f"  {p.name:<34} {p.start} → {p.end}  {p.days:>3} d  {p.why}")
        lines += [""] + [f"warning: {w}" for w in self.warnings]
        a = self.assumptions
        rates = ", ".join(f"{k} {v:.3%}" for k, v in a.failure_rates.items())
        lines.append(f"assumed ({a.source}): {a.daily_interactions:,} interactions a day; {rates}; human success "
                     f"{a.human_success:.1%}, agent {a.success_diff:+.1%} points")
        return "\n".join(lines).rstrip()


@dataclass(frozen=True, kw_only=True, eq=False)
class Progress:
    as_of: dt.date
    #: One row per counted phase: planned and actual start/end, slip_days (actual − planned start), status.
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
        if self.reached_100:
            return f"reached 100% on {self.reached_100}, {self.slip_text}"
        if self.rolled_back_on:
            return (f"rolled back to 0% on {self.rolled_back_on}; restarting the ladder puts 100% on "
                    f"{self.projected_100}, {self.slip_text}")
        return f"{self.slip_text} (in {self.current_phase}; projected 100% on {self.projected_100})"

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
