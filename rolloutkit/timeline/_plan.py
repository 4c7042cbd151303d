"""The planner: the expected rates a workspace gives as of a day, the plan a charter and those rates give (every
phase planned), and the what-if grid of such plans."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import polars as pl

from rolloutkit import text
from rolloutkit.charter import Charter, RiskTier
from rolloutkit.checks import LABELS
from rolloutkit.shadow import ALL_WEEKS, finding_shares, review_items, verdict_shares
from rolloutkit.timeline._counts import canary_daily, human_success, rows_as_of
from rolloutkit.timeline._evidence import round_up, shadow_days, stage_days, stage_evidence
from rolloutkit.timeline._results import TYPICAL_WEEKS, Assumptions, Evidence, Phase, PhaseKind, Plan
from rolloutkit.workspace import Workspace

SETUP_DAYS: dict[str, int] = {"low": 3, "moderate": 7, "high": 14}
SUPERVISION_WINDOW_DAYS = 90
DEFAULT_HUMAN_SUCCESS = 0.85
#: Without shadow reviews, each failure mode is planned at this fraction of its limit.
CHARTER_RATE_FRACTION = 0.5


def assumptions(ws: Workspace, *, as_of: dt.date | str | None = None) -> Assumptions:
    """Expected rates from the workspace as of a day: weighted shadow reviews where they exist, else the charter."""
    day = ws.resolve_as_of(as_of)
    return assumptions_from(ws, day, canary_daily(ws, day))


def assumptions_from(ws: Workspace, day: dt.date, daily: pl.DataFrame | None) -> Assumptions:
    charter = ws.charter
    base = _charter_assumptions(charter)
    rates, worse, source = dict(base.failure_rates), base.agent_worse_rate, base.source
    if ws.has("reviews"):
        shadow = (rows_as_of(ws, "shadow", day).with_columns(week=text.iso_week_expr(pl.col("day")))
                  if ws.has("shadow") else None)
        items = review_items(rows_as_of(ws, "reviews", day), shadow, as_of=day).items
        if items.height:
            found = finding_shares(items, charter)
            worse_row = verdict_shares(items).filter(pl.col("week") == ALL_WEEKS, pl.col("verdict") == "agent_worse")
            rates = {r["failure_mode"]: 0.0 if r["zero_tolerance"] else
                     _shrunk(r["estimate"], r["effective_n"], r["max_rate"]) for r in found.iter_rows(named=True)}
            worse = _shrunk(worse_row["estimate"].item(), worse_row["effective_n"].item(),
                            charter.shadow.max_agent_worse_rate)
            source = f"{items.height:,} reviewed shadow interactions (weighted by inclusion probability)"
    human = base.human_success
    n, rate = human_success(daily)
    if rate is not None:
        human = rate
        source += f"; human success from {n:,} human canary interactions"
    return Assumptions(daily_interactions=charter.traffic.daily_interactions, failure_rates=rates,
                       human_success=human, success_diff=0.0, agent_worse_rate=worse, source=source)


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
        source=f"charter (failure modes at {text.pct(CHARTER_RATE_FRACTION)} of their limits)",
    )


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
    a = Assumptions(daily_interactions=volume, failure_rates=rates,
                    human_success=base.human_success if human_success is None else human_success,
                    success_diff=success_diff,
                    agent_worse_rate=base.agent_worse_rate if agent_worse_rate is None else agent_worse_rate,
                    source=source or base.source)
    stages = _stages(charter.canary.stages, first_share)
    policy = charter.canary
    setup = SETUP_DAYS[tier]
    shadow_length, shadow_why, shadow_warning = shadow_days(charter, tier, a.agent_worse_rate)
    phases = [_phase("charter and eval set", "setup", start, setup,
                     f"{tier} risk: {setup} days to agree the four artifacts and run the 100–300-task eval set")]
    phases.append(_phase("shadow", "shadow", phases[-1].end, shadow_length, shadow_why, warning=shadow_warning))
    evidence: list[Evidence] = []
    for share in stages[:-1]:
        name = f"canary {text.stage(share)}"
        checks = stage_evidence(charter, name, share, a)
        evidence += checks
        days, why, warning, ok = stage_days(charter, name, share, checks, a)
        phases.append(_phase(name, "canary", phases[-1].end, days, why, share=share, warning=warning,
                             feasible=ok))
    phases.append(supervision_phase(charter, phases[-1].end))
    result = Plan(agent=charter.agent, risk_tier=tier, start=start, phases=tuple(phases), evidence=tuple(evidence),
                  assumptions=a, min_hold_days=policy.min_hold_days, max_hold_days=policy.max_hold_days)
    return with_warnings(result)


def supervision_phase(charter: Charter, start: dt.date) -> Phase:
    """The first days at 100%, the riskiest: shown, not counted in prototype-to-100%."""
    return _phase(f"100% supervised (first {SUPERVISION_WINDOW_DAYS} days)", "supervision", start,
                  SUPERVISION_WINDOW_DAYS,
                  f"{text.pct(charter.supervision.sample_rate)} of outputs reviewed, incident log, rollback drills; "
                  "the riskiest days, shown but not counted", share=1.0, counted=False)


def with_warnings(p: Plan) -> Plan:
    """The plan with the warnings about what is current or still to come, feasible if every phase ahead is, and a
    warning when the whole is outside the typical weeks (until 100% is reached: then it is history)."""
    ahead = [ph for ph in p.phases if ph.ahead]
    warnings = [ph.warning for ph in ahead if ph.warning]
    feasible = all(ph.feasible for ph in ahead)
    if not p.reached_100 and not p.within_typical_range:
        warnings.append(_range_warning(p))
    return replace(p, warnings=tuple(warnings), feasible=feasible)


def check_words(name: str) -> str:
    """A check's name in words, as pages write it: "failure_rate:wrong_route" → "Failure rate: wrong_route"."""
    kind, _, detail = name.partition(":")
    words = LABELS.get(kind, kind.replace("_", " ").capitalize())
    return f"{words}: {detail}" if detail else words


def default_volumes(daily: int) -> list[int]:
    """Daily volumes around the charter's traffic for the what-if grid: a tenth of it up to five times it, and the
    charter's traffic itself."""
    return sorted({daily, *(max(10, round_up(round(daily * f))) for f in (0.1, 0.25, 0.5, 2, 5))})


def default_first_shares(charter: Charter) -> list[float]:
    """First-stage shares for the what-if grid: 1%, 2% and 5%, and the charter's own first stage."""
    return sorted({0.01, 0.02, 0.05, charter.canary.stages[0]})


def what_if_grid(
    charter: Charter,
    *,
    volumes: Sequence[int] | None = None,
    risk_tiers: Sequence[RiskTier] = ("low", "moderate", "high"),
    first_shares: Sequence[float] | None = None,
    expected_rates: Mapping[str, float] | None = None,
    human_success: float | None = None,
    success_diff: float = 0.0,
    agent_worse_rate: float | None = None,
) -> pl.DataFrame:
    """Total weeks to 100% for every daily volume × risk tier × first-stage share (the planner, many times, each
    plan from scratch: every phase planned).

    `volumes` defaults to `default_volumes` of the charter's traffic, `first_shares` to `default_first_shares`, so
    the grid holds the current setup. Columns: daily_interactions, risk_tier, first_share, total_weeks,
    within_typical_range, feasible, first_stage_days, slowest_stage, stages_past_max_hold, and `current`: the
    charter's own traffic, risk tier and first stage.
    """
    start = dt.date(2000, 1, 3)  # any Monday: totals do not depend on the calendar
    setup = (charter.traffic.daily_interactions, charter.risk_tier, charter.canary.stages[0])
    rows = []
    for volume in volumes or default_volumes(charter.traffic.daily_interactions):
        for tier in risk_tiers:
            for share in first_shares or default_first_shares(charter):
                p = plan_from_charter(charter, start=start, daily_interactions=volume, risk_tier=tier,
                                      first_share=share, expected_rates=expected_rates,
                                      human_success=human_success, success_diff=success_diff,
                                      agent_worse_rate=agent_worse_rate)
                canary = [ph for ph in p.phases if ph.kind == "canary"]
                slowest = max(canary, key=lambda ph: ph.days) if canary else None
                rows.append({
                    "daily_interactions": volume, "risk_tier": tier, "first_share": share,
                    "total_weeks": p.total_weeks, "within_typical_range": p.within_typical_range,
                    "feasible": p.feasible, "first_stage_days": canary[0].days if canary else 0,
                    "slowest_stage": slowest.name if slowest else None,
                    "stages_past_max_hold": sum(ph.days > p.max_hold_days for ph in canary),
                    "current": (volume, tier, share) == setup,
                })
    return pl.DataFrame(rows, schema={
        "daily_interactions": pl.Int64, "risk_tier": pl.String, "first_share": pl.Float64,
        "total_weeks": pl.Float64, "within_typical_range": pl.Boolean, "feasible": pl.Boolean,
        "first_stage_days": pl.Int64, "slowest_stage": pl.String, "stages_past_max_hold": pl.Int64,
        "current": pl.Boolean})


# --- the pieces -------------------------------------------------------------------------------------------------


def _stages(stages: tuple[float, ...], first_share: float | None) -> tuple[float, ...]:
    if first_share is None:
        return stages
    if not 0 < first_share < 1:
        raise ValueError(f"`first_share` must be in (0, 1), got {first_share!r}")
    return tuple(sorted({first_share, *(s for s in stages[1:] if s > first_share)}))


def _phase(name: str, kind: PhaseKind, start: dt.date, days: int, why: str, *, share: float | None = None,
           counted: bool = True, warning: str | None = None, feasible: bool = True) -> Phase:
    return Phase(name=name, kind=kind, start=start, end=start + dt.timedelta(days=days), days=days, why=why,
                 share=share, counted=counted, warning=warning, feasible=feasible)


def _range_warning(p: Plan) -> str:
    low, high = TYPICAL_WEEKS
    counted = [ph for ph in p.phases if ph.counted]
    days = {kind: sum(ph.days for ph in counted if ph.kind == kind) for kind in ("setup", "shadow", "canary")}
    stages = [ph for ph in counted if ph.kind == "canary" and ph.share is not None and ph.status != "skipped"]
    parts = [f"{days['setup']} days of charter and eval set", f"{days['shadow']} days of shadow ({p.risk_tier} risk)",
             f"{days['canary']} days of canary over {len(stages)} stages"]
    if p.total_weeks > high:
        slow = [ph for ph in stages if ph.days > p.min_hold_days]
        cause = ("; the evidence stretches " + ", ".join(f"{ph.name} to {ph.days} days" for ph in slow)
                 if slow else "")
        return f"{p.total_weeks} weeks is above the typical {low}–{high}: " + ", ".join(parts) + cause
    return (f"{p.total_weeks} weeks is below the typical {low}–{high}: " + ", ".join(parts)
            + (f"; the canary stages all fit their {p.min_hold_days}-day bake minimum" if
               all(ph.days == p.min_hold_days for ph in stages) else ""))
