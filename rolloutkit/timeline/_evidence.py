"""The evidence behind the plan: shadow length by risk tier and the days each canary stage's checks need.

See `rolloutkit.timeline` for the rules; this module holds the sample-size arithmetic so the planner stays short.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

from rolloutkit import stats, text
from rolloutkit.canary import tuning_n, tuning_trials
from rolloutkit.charter import Charter, RiskTier, Traffic
from rolloutkit.text import pct
from rolloutkit.timeline._results import Assumptions, Evidence, success_gap

SHADOW_POWER = 0.8
#: First shares tried when a stage cannot gather its evidence within `max_hold_days`.
SHARE_CANDIDATES = (0.01, 0.02, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)


def shadow_days(charter: Charter, tier: RiskTier, worse_rate: float) -> tuple[int, str, str | None]:
    policy = charter.shadow
    limit = policy.max_agent_worse_rate
    needed = stats.trials_to_demonstrate(limit, worse_rate, alpha=charter.canary.alpha, power=SHADOW_POWER)
    if tier == "low":
        days = 3 if policy.min_weeks == 0 else 7
        return days, (f"low risk: shadow compressed to {days} days"
                      + (" (shadow.min_weeks is 0: an internal tool)" if days == 3 else "")), None
    if tier == "high":
        return 7 * policy.max_weeks, f"high risk: the charter's maximum of {policy.max_weeks} weeks", None
    evidence = (f"{needed.trials:,} reviews to show agent-worse below {pct(limit)} at an expected {pct(worse_rate)}"
                if needed.trials else f"agent-worse expected at {pct(worse_rate)}, not below the {pct(limit)} limit")
    weeks_needed = math.ceil(needed.trials / policy.reviews_per_week) if needed.trials else None
    weeks = min(max(weeks_needed or policy.max_weeks, policy.min_weeks), policy.max_weeks)
    why = f"moderate risk: {weeks} weeks within {policy.min_weeks}–{policy.max_weeks}; {evidence}"
    warning = None
    if weeks_needed is None or weeks_needed > policy.max_weeks:
        rate = (f"; {math.ceil(needed.trials / policy.max_weeks):,} reviews a week would fit"
                if needed.trials else "")
        warning = (f"shadow: {evidence}, more than {policy.max_weeks} weeks of {policy.reviews_per_week} "
                   f"reviews a week{rate}")
    return 7 * weeks, why, warning


def stage_evidence(charter: Charter, stage: str, share: float, a: Assumptions) -> list[Evidence]:
    daily = a.daily_interactions
    alpha = charter.canary.alpha
    # readiness tunes its sequences to the charter's traffic: plan at the assumed traffic the same way
    at_volume = replace(charter, traffic=Traffic(daily))
    rows = []
    for mode in charter.failure_modes:
        if mode.zero_tolerance:
            continue
        expected = a.failure_rates[mode.name]
        trials = _upper_trials(mode.max_rate, expected, alpha, tuning_trials(at_volume, share))
        rows.append(Evidence(stage=stage, share=share, check=f"failure_rate:{mode.name}", limit=mode.max_rate,
                             expected=expected, trials=trials,
                             days=None if trials is None else math.ceil(trials / (share * daily))))
    margin = charter.success_metric.noninferiority_margin
    p_agent = min(max(a.human_success + a.success_diff, 0.0), 1.0)
    trials = _diff_trials(margin, p_agent, a.human_success, share, alpha, tuning_n(at_volume)) if share < 1 \
        else None
    rows.append(Evidence(stage=stage, share=share, check="success_noninferiority", limit=-margin,
                         expected=a.success_diff, trials=trials,
                         days=None if trials is None else math.ceil(trials / daily)))
    return rows


@lru_cache(maxsize=4096)
def _upper_trials(max_rate: float, expected: float, alpha: float, tuning: float) -> int | None:
    return stats.trials_until_upper_below(max_rate, expected, alpha=alpha, tuning_trials=tuning)


@lru_cache(maxsize=4096)
def _diff_trials(margin: float, p_agent: float, p_control: float, share: float, alpha: float,
                 tuning: float) -> int | None:
    return stats.trials_until_diff_above(margin, p_agent, p_control, share, alpha=alpha, tuning_n=tuning)


def _label(check: str) -> str:
    return check.removeprefix("failure_rate:") if check.startswith("failure_rate:") else "success non-inferiority"


def stage_days(charter: Charter, name: str, share: float, checks: list[Evidence],
                a: Assumptions) -> tuple[int, str, str | None, bool]:
    policy = charter.canary
    never = [c for c in checks if c.days is None]
    if never:
        what = "; ".join(
            f"{_label(c.check)} expected at {pct(c.expected)}, not below its {pct(c.limit)} limit"
            if c.check.startswith("failure_rate:")
            else f"success expected {success_gap(c.expected)} against a {pct(-c.limit)} margin" for c in never)
        return (policy.max_hold_days, f"never passes: {what}; planned at the {policy.max_hold_days}-day maximum",
                f"{name}: readiness can never pass ({what}); fix the agent before this stage", False)
    slowest = max(checks, key=lambda c: c.days or 0)
    need = slowest.days or 0
    per_day = share * a.daily_interactions if slowest.check.startswith("failure_rate:") else a.daily_interactions
    unit = "agent interactions" if slowest.check.startswith("failure_rate:") else "interactions (both arms)"
    evidence = (f"{slowest.trials:,} {unit} at {per_day:,.0f} a day to show {_label(slowest.check)} "
                + (f"below {pct(slowest.limit)}" if slowest.check.startswith("failure_rate:")
                   else f"within the {pct(-slowest.limit)} margin"))
    if need <= policy.min_hold_days:
        return policy.min_hold_days, f"the {policy.min_hold_days}-day bake minimum ({need} days of evidence: " \
            f"{evidence})", None, True
    why = f"{need} days: {evidence}"
    if need <= policy.max_hold_days:
        return need, why, None, True
    fix = _what_would_fit(charter, share, checks, a)
    return need, why + f", past the {policy.max_hold_days}-day maximum hold", \
        f"{name}: {evidence} takes {need} days, past the {policy.max_hold_days}-day maximum hold; {fix}", True


def _what_would_fit(charter: Charter, share: float, checks: list[Evidence], a: Assumptions) -> str:
    """The smallest candidate share, and the daily traffic at this share, that fit the evidence in max_hold_days."""
    hold = charter.canary.max_hold_days

    def fits(s: float, volume: int) -> bool:
        trial = replace(a, daily_interactions=volume)
        return all(c.days is not None and c.days <= hold for c in stage_evidence(charter, "", s, trial))

    bigger = next((s for s in SHARE_CANDIDATES if s > share and fits(s, a.daily_interactions)), None)
    volume = a.daily_interactions
    for _ in range(12):
        if fits(share, volume):
            break
        volume *= 2
    parts = [f"a stage share of {text.stage(bigger)}" if bigger else None,
             f"about {round_up(volume):,} interactions a day" if fits(share, volume) else None]
    found = [p for p in parts if p]
    return (" or ".join(found) + " would fit it") if found else "no share or traffic fits it"


def round_up(volume: int) -> int:
    step = 10 ** max(len(str(volume)) - 2, 0)
    return math.ceil(volume / step) * step
