"""What a synthetic workspace was drawn from, and the decisions that truth implies."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from rolloutkit.synth.scenarios import Scenario


@dataclass(frozen=True)
class Truth:
    """The true rates behind a written workspace, where its data ends, and the decisions they imply."""

    scenario: str
    agent: str
    seed: int
    start: dt.date  # first day of data (shadow starts)
    end: dt.date  # last day of data
    as_of: dt.date  # the day the expected canary decision is taken (the day before an actual rollback)
    shadow_end: dt.date  # last shadow day; the day the expected shadow decision is taken
    canary_start: dt.date | None
    stage: float | None  # share in force on `as_of` (None: still in shadow)
    stage_started: dt.date | None
    days_at_stage: int | None  # calendar days of the stage up to `as_of`, its first day included
    verdict_shares: dict[str, float]  # true shares over the shadow population
    realised_verdict_shares: dict[str, float]  # shares among the interactions actually drawn
    agent_worse_rate: float
    action_disagreement: float
    max_rates: dict[str, float]  # charter limits
    failure_rates: dict[str, tuple[float, ...]]  # true agent rate per executed stage (before any regression)
    human_failure_rates: dict[str, float]
    success_rates: dict[str, float]  # {"agent": ..., "human": ...}
    srm_skew: float
    regression_mode: str | None
    regression_day: dt.date | None  # first day at `regression_rate`
    regression_rate: float | None
    rollback_day: dt.date | None  # day the flag was actually set to 0
    drill_seconds: tuple[float, ...]
    tables: tuple[str, ...]  # tables written
    expected_shadow_decision: str  # ready_for_canary | continue_shadow | not_ready, on `shadow_end`
    expected_canary_decision: str | None  # expand | hold | rollback on `as_of`; None without canary
    expected_failing_checks: tuple[str, ...]  # readiness checks that should not pass on `as_of`


def expected_shadow(sc: Scenario) -> str:
    if sc.agent_worse > sc.max_agent_worse_rate:
        return "not_ready"
    if sc.shadow_weeks < sc.shadow_min_weeks:
        return "continue_shadow"
    return "ready_for_canary"


def expected_canary(sc: Scenario, stage: int | None, days_at_stage: int | None,
                    regressed: bool) -> tuple[str | None, tuple[str, ...]]:
    """A conservative reading of the truth; the named scenarios sit far from every edge it draws.

    Evidence counts as sufficient when a generous bound (expected count + 3 sd + 4) stays under each limit and the
    success gap clears the margin by 3.5 standard errors, over the agent interactions expected at the stage.
    `expected_failing_checks` lists the checks the truth says cannot pass; a check may still miss by chance.
    """
    if stage is None or days_at_stage is None:
        return None, ()
    share, _ = sc.executed[stage]
    if regressed and sc.regression is not None:
        return "rollback", (f"failure_rate:{sc.regression.mode}",)
    zero = tuple(f"zero_tolerance:{m.name}" for m in sc.failure_modes if m.max_rate == 0 and m.agent_rate > 0)
    if zero:
        return "rollback", zero
    failing: list[str] = []
    if sc.srm_skew != 1:
        failing.append("srm")
    if days_at_stage < sc.min_hold_days:
        failing.append("bake_time")
    n_agent = share * min(sc.srm_skew, 1.0) * sc.daily_interactions * days_at_stage
    n_human = (1 - share) * sc.daily_interactions * days_at_stage
    for m in sc.failure_modes:
        if m.max_rate > 0:
            x = n_agent * m.rate_at_stage(stage)
            if (x + 3 * math.sqrt(x) + 4) / max(n_agent, 1) >= m.max_rate:
                failing.append(f"failure_rate:{m.name}")
    pa, ph = sc.agent_success, sc.human_success
    se = math.sqrt(pa * (1 - pa) / max(n_agent, 1) + (ph * (1 - ph) / n_human if n_human else 0.0))
    if n_human == 0 or pa - ph + sc.noninferiority_margin <= 3.5 * se:
        failing.append("success_noninferiority")
    if sc.guardrail_breach_rate * share * sc.daily_interactions * min(days_at_stage, 7) >= 3:
        failing.append("guardrails")  # breaches expected in the last 7 days
    if share >= 1.0:
        return "hold", tuple(failing)  # nothing left to expand to: stay at 100% under supervision
    return ("hold" if failing else "expand"), tuple(failing)
