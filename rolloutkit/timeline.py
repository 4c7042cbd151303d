"""Timeline planning: when will the agent be at 100%? A plan driven by sample sizes, not guesses.

Phases, in order (each phase's `end` is the day the next one starts):

1. **Charter and eval set** — 3 days for a low-risk agent, 7 for moderate, 14 for high (sign-offs take longer).
2. **Shadow** — by risk tier:
   - low: compressed to 7 days, or 3 days when the charter's `shadow.min_weeks` is 0 (an internal tool);
   - moderate: the weeks of reviews (at `shadow.reviews_per_week`) an exact binomial test needs to show the
     agent-worse rate below `shadow.max_agent_worse_rate` at its expected rate, kept within
     `shadow.min_weeks`..`shadow.max_weeks`;
   - high: always `shadow.max_weeks`.
3. **Each canary stage** below 100% — max(`canary.min_hold_days`, the days of traffic at the stage's share the
   evidence needs): for each failure mode with a non-zero limit, the agent trials until the beta-binomial
   confidence sequence's upper bound falls below `max_rate` when failures come at the expected rate
   (`stats.trials_until_upper_below`), and for the success metric, the trials until the lower bound of the
   difference sequence is above −margin (`stats.trials_until_diff_above`). Same sequences, alpha and tuning as
   `canary.readiness` (`canary_checks.tuning_trials` and `tuning_n`, evaluated at the planned traffic), so the
   planned day and the day readiness first passes agree.
   A stage whose evidence needs more than `max_hold_days` keeps its evidence days and gets a warning saying which
   first share or daily traffic would fit; a stage that can never pass (expected rate at or above the limit)
   is planned at `max_hold_days` and the plan is marked infeasible.
4. **100% under supervision** — the first 90 days, the riskiest, are shown but not counted in the total.

Expected rates come from the shadow reviews where they exist — each failure mode's and agent-worse's share of
reviewed interactions weighted by 1 / inclusion probability, as on the shadow page (`shadow_reviews`), pulled
towards half the limit by one pseudo-failure (a prior worth 2 / limit reviews: a few hundred reviews see only a
handful of rare failures) — else from the charter: each failure mode at half its limit. The agent's success is
planned equal to the humans' (the usual non-inferiority design assumption; review verdicts do not measure the
success metric), the human success rate from the canary table's human arm, else 0.85.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import polars as pl

from rolloutkit.charter import Charter, RiskTier
from rolloutkit.memo import Headline
from rolloutkit.shadow_reviews import ALL_WEEKS, finding_shares, review_items, verdict_shares
from rolloutkit.shadow_sampling import iso_week
from rolloutkit.timeline_evidence import Assumptions, Evidence, round_up, shadow_days, stage_days, stage_evidence
from rolloutkit.timeline_progress import Progress, progress
from rolloutkit.workspace import Workspace

__all__ = [
    "Assumptions", "Evidence", "Phase", "Plan", "Progress", "assumptions", "default_volumes", "headline", "plan",
    "plan_from_charter", "progress", "what_if_grid",
]

PhaseKind = Literal["setup", "shadow", "canary", "supervision"]
SETUP_DAYS: dict[str, int] = {"low": 3, "moderate": 7, "high": 14}
TYPICAL_WEEKS = (6, 12)
SUPERVISION_WINDOW_DAYS = 90
DEFAULT_HUMAN_SUCCESS = 0.85
#: Without shadow reviews, each failure mode is planned at this fraction of its limit.
CHARTER_RATE_FRACTION = 0.5


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
            "evidence": [asdict(e) for e in self.evidence],
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
        return "\n".join(line for line in lines).rstrip()


def assumptions(ws: Workspace, *, as_of: dt.date | str | None = None) -> Assumptions:
    """Expected rates from the workspace: weighted shadow reviews where they exist, else the charter."""
    charter = ws.charter
    base = _charter_assumptions(charter)
    rates, worse, source = dict(base.failure_rates), base.agent_worse_rate, base.source
    if ws.has("reviews"):
        day = ws.resolve_as_of(as_of)
        shadow = (ws.table("shadow").filter(pl.col("day") <= day).with_columns(week=iso_week(pl.col("day")))
                  if ws.has("shadow") else None)
        items = review_items(ws.table("reviews"), shadow, as_of=day).items
        if items.height:
            found = finding_shares(items, charter)
            worse_row = verdict_shares(items).filter(pl.col("week") == ALL_WEEKS, pl.col("verdict") == "agent_worse")
            rates = {r["failure_mode"]: 0.0 if r["zero_tolerance"] else
                     _shrunk(r["estimate"], r["effective_n"], r["max_rate"]) for r in found.iter_rows(named=True)}
            worse = _shrunk(worse_row["estimate"].item(), worse_row["effective_n"].item(),
                            charter.shadow.max_agent_worse_rate)
            source = f"{items.height:,} reviewed shadow interactions (weighted by inclusion probability)"
    human = base.human_success
    if ws.has("canary"):
        row = (ws.table("canary").filter(pl.col("arm") == "human")
               .select(pl.len().alias("n"), pl.col("success").mean().alias("rate")).collect().row(0, named=True))
        if row["n"]:
            human = float(row["rate"])
            source += f"; human success from {row['n']:,} human canary interactions"
    return Assumptions(charter.traffic.daily_interactions, rates, human, 0.0, worse, source)


def _shrunk(estimate: float | None, effective_n: float | None, limit: float) -> float:
    """The weighted review estimate pulled towards half the limit by one pseudo-failure at that rate.

    A shadow sample of a few hundred reviews sees a handful of failures at most: alone it would plan on zero
    after a clean shadow, or on "never" after one unlucky week. The prior weighs 2 / limit pseudo-reviews.
    """
    n = effective_n if effective_n and estimate is not None and math.isfinite(estimate) else 0.0
    return ((estimate or 0.0) * n + 1) / (n + 2 / limit)


def _charter_assumptions(charter: Charter) -> Assumptions:
    return Assumptions(
        daily_interactions=charter.traffic.daily_interactions,
        failure_rates={m.name: m.max_rate * CHARTER_RATE_FRACTION for m in charter.failure_modes},
        human_success=DEFAULT_HUMAN_SUCCESS, success_diff=0.0,
        agent_worse_rate=charter.shadow.max_agent_worse_rate * CHARTER_RATE_FRACTION,
        source=f"charter (failure modes at {CHARTER_RATE_FRACTION:.0%} of their limits)",
    )


def plan(ws: Workspace, *, start: dt.date | str | None = None) -> Plan:
    """The plan for a workspace; `start` defaults to the first day with data, else today."""
    if start is None:
        first = ws.inventory()["first_day"].min() if ws.files else None
        start_day = first if isinstance(first, dt.date) else dt.date.today()
    else:
        start_day = ws.resolve_as_of(start)
    a = assumptions(ws)
    return plan_from_charter(ws.charter, start=start_day, expected_rates=a.failure_rates,
                             human_success=a.human_success, success_diff=a.success_diff,
                             agent_worse_rate=a.agent_worse_rate, source=a.source)


def plan_from_charter(
    charter: Charter,
    *,
    start: dt.date,
    daily_interactions: int | None = None,
    expected_rates: Mapping[str, float] | None = None,
    human_success: float | None = None,
    success_diff: float = 0.0,
    agent_worse_rate: float | None = None,
    risk_tier: RiskTier | None = None,
    first_share: float | None = None,
    source: str | None = None,
) -> Plan:
    """The pure planner: a charter and assumptions in, a `Plan` out (no workspace needed).

    `expected_rates` maps failure modes to expected agent rates (missing modes: half their limit);
    `first_share` replaces the first canary stage; `risk_tier` and `daily_interactions` override the charter's.
    """
    base = _charter_assumptions(charter)
    volume = daily_interactions or charter.traffic.daily_interactions
    if volume < 1:
        raise ValueError(f"`daily_interactions` must be at least 1, got {volume}")
    tier = risk_tier or charter.risk_tier
    rates = {**base.failure_rates, **(expected_rates or {})}
    a = Assumptions(volume, rates, base.human_success if human_success is None else human_success, success_diff,
                    base.agent_worse_rate if agent_worse_rate is None else agent_worse_rate,
                    source or base.source)
    stages = _stages(charter.canary.stages, first_share)
    policy = charter.canary
    setup = SETUP_DAYS[tier]
    shadow_length, shadow_why, shadow_warning = shadow_days(charter, tier, a.agent_worse_rate)
    phases = [_phase("charter and eval set", "setup", start, setup,
                     f"{tier} risk: {setup} days to agree the four artifacts and run the 100–300-task eval set")]
    phases.append(_phase("shadow", "shadow", phases[-1].end, shadow_length, shadow_why))
    warnings = [shadow_warning] if shadow_warning else []
    evidence: list[Evidence] = []
    feasible = True
    for share in stages[:-1]:
        name = f"canary {share:.0%}"
        checks = stage_evidence(charter, name, share, a)
        evidence += checks
        days, why, warning, ok = stage_days(charter, name, share, checks, a)
        feasible &= ok
        warnings += [warning] if warning else []
        phases.append(_phase(name, "canary", phases[-1].end, days, why, share=share))
    phases.append(_phase(f"100% supervised (first {SUPERVISION_WINDOW_DAYS} days)", "supervision", phases[-1].end,
                         SUPERVISION_WINDOW_DAYS,
                         f"{charter.supervision.sample_rate:.0%} of outputs reviewed, incident log, rollback drills; "
                         "the riskiest days, shown but not counted", share=1.0, counted=False))
    result = Plan(charter.agent, tier, start, tuple(phases), tuple(evidence), a, policy.min_hold_days,
                  policy.max_hold_days, feasible=feasible)
    if not result.within_typical_range:
        warnings.append(_range_warning(result, setup, shadow_length))
    return replace(result, warnings=tuple(warnings))


def default_volumes(daily: int) -> list[int]:
    """Daily volumes around the charter's traffic for the what-if grid: a tenth of it up to five times it."""
    return sorted({max(10, round_up(round(daily * f))) for f in (0.1, 0.25, 0.5, 1, 2, 5)})


def what_if_grid(
    charter: Charter,
    *,
    volumes: Sequence[int] | None = None,
    risk_tiers: Sequence[RiskTier] = ("low", "moderate", "high"),
    first_shares: Sequence[float] = (0.01, 0.02, 0.05),
    expected_rates: Mapping[str, float] | None = None,
    human_success: float | None = None,
    success_diff: float = 0.0,
) -> pl.DataFrame:
    """Total weeks to 100% for every daily volume × risk tier × first-stage share (the planner, many times).

    `volumes` defaults to `default_volumes` of the charter's traffic. Columns: daily_interactions, risk_tier,
    first_share, total_weeks, within_typical_range, feasible, first_stage_days, slowest_stage, stages_past_max_hold.
    """
    start = dt.date(2000, 1, 3)  # any Monday: totals do not depend on the calendar
    rows = []
    for volume in volumes or default_volumes(charter.traffic.daily_interactions):
        for tier in risk_tiers:
            for share in first_shares:
                p = plan_from_charter(charter, start=start, daily_interactions=volume, risk_tier=tier,
                                      first_share=share, expected_rates=expected_rates,
                                      human_success=human_success, success_diff=success_diff)
                canary = [ph for ph in p.phases if ph.kind == "canary"]
                slowest = max(canary, key=lambda ph: ph.days) if canary else None
                rows.append({
                    "daily_interactions": volume, "risk_tier": tier, "first_share": share,
                    "total_weeks": p.total_weeks, "within_typical_range": p.within_typical_range,
                    "feasible": p.feasible, "first_stage_days": canary[0].days if canary else 0,
                    "slowest_stage": slowest.name if slowest else None,
                    "stages_past_max_hold": sum(ph.days > p.max_hold_days for ph in canary),
                })
    return pl.DataFrame(rows, schema={
        "daily_interactions": pl.Int64, "risk_tier": pl.String, "first_share": pl.Float64,
        "total_weeks": pl.Float64, "within_typical_range": pl.Boolean, "feasible": pl.Boolean,
        "first_stage_days": pl.Int64, "slowest_stage": pl.String, "stages_past_max_hold": pl.Int64})


def headline(ws: Workspace, *, as_of: dt.date | str | None) -> Headline:
    """The summary-page line: the planned 100% date, the weeks against the typical band, and slippage."""
    day = ws.resolve_as_of(as_of)
    p = plan(ws)
    prog = progress(ws, p, as_of=day)
    sentence = f"Planned 100% on {p.hundred_percent} ({p.total_weeks} weeks, {p.range_text}); {prog.sentence}"
    late = prog.slip_days > 2
    status = "bad" if not p.feasible else "warn" if late or not p.within_typical_range or p.warnings else "good"
    return Headline("timeline_planning", "Timeline", status, sentence, decision=prog.state,
                    details={**p.to_dict(), "progress": prog.to_dict()})


# --- the pieces -------------------------------------------------------------------------------------------------


def _stages(stages: tuple[float, ...], first_share: float | None) -> tuple[float, ...]:
    if first_share is None:
        return stages
    if not 0 < first_share < 1:
        raise ValueError(f"`first_share` must be in (0, 1), got {first_share!r}")
    return tuple(sorted({first_share, *(s for s in stages[1:] if s > first_share)}))


def _phase(name: str, kind: PhaseKind, start: dt.date, days: int, why: str, *, share: float | None = None,
           counted: bool = True) -> Phase:
    return Phase(name, kind, start, start + dt.timedelta(days=days), days, why, share, counted)


def _range_warning(p: Plan, setup: int, shadow_days: int) -> str:
    low, high = TYPICAL_WEEKS
    canary = [ph for ph in p.phases if ph.kind == "canary"]
    canary_days = sum(ph.days for ph in canary)
    floor_days = p.min_hold_days * len(canary)
    parts = [f"{setup} days of charter and eval set", f"{shadow_days} days of shadow ({p.risk_tier} risk)",
             f"{canary_days} days of canary over {len(canary)} stages"]
    if p.total_weeks > high:
        slow = [ph for ph in canary if ph.days > p.min_hold_days]
        cause = ("; the evidence stretches " + ", ".join(f"{ph.name} to {ph.days} days" for ph in slow)
                 if slow else "")
        return f"{p.total_weeks} weeks is above the typical {low}–{high}: " + ", ".join(parts) + cause
    return (f"{p.total_weeks} weeks is below the typical {low}–{high}: " + ", ".join(parts)
            + (f"; the canary stages all fit their {p.min_hold_days}-day bake minimum" if
               canary_days == floor_days else ""))

