"""The readiness checks, each on the daily counts of the current stage: estimate, bounds, threshold, status, sentence.

Every statistic comes from `rolloutkit.stats`. Checks re-evaluated every day use confidence sequences, so looking
daily does not inflate false "safe" calls. What a failing check means is fixed per check (`on_fail`): the failure
rate, zero-tolerance, non-inferiority and charter-trigger checks roll back; the others hold, among them the
whole picture beside the counts: an open sev1/sev2 incident opened at the stage, and eval-set regressions of the
live agent version.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from rolloutkit import stats
from rolloutkit.canary._results import (
    BLOCKING_CATEGORIES,
    BLOCKING_SEVERITIES,
    GUARDRAIL_WORDS,
    VERSION_SOURCES,
    StageView,
    failure_column,
)
from rolloutkit.charter import Charter, FailureMode, RollbackTrigger
from rolloutkit.checks import Check, Status
from rolloutkit.text import pct, plural

#: Total false-alarm rate of the stability check over its whole window (split over series, days and trend).
STABILITY_ALPHA = 0.01
SRM_ALPHA = 0.001
_GUARDRAIL_SOURCES = {"disallowed": ("action_allowlist", "disallowed_actions"),
                      "unreviewed": ("review_required", "unreviewed_irreversible"),
                      "over_actions": ("max_actions_per_session", "actions"),
                      "over_dollars": ("max_dollars_per_session", "dollars")}


def tuning_trials(charter: Charter, share: float) -> float:
    """The agent trials at which the failure-rate confidence sequence of a stage at `share` is tightest.

    That is the end of the longest allowed hold at the charter's traffic: share × `traffic.daily_interactions` ×
    `canary.max_hold_days` (confseq's `t_opt`). Public because whoever plans a stage must use the sequence the
    daily decision uses: the timeline computes the days a stage needs with it, and a simulation of the checks'
    operating characteristics draws its bounds with it.

    >>> from rolloutkit.charter import parse_charter
    >>> charter = parse_charter({"agent": "a", "task": "t", "traffic": {"daily_interactions": 4000},
    ...     "success_metric": {"name": "s", "noninferiority_margin": 0.02},
    ...     "failure_modes": [{"name": "f", "max_rate": 0.01}],
    ...     "rollback_triggers": [{"metric": "success_rate", "below": 0.5}]})
    >>> tuning_trials(charter, 0.05)
    2800.0
    """
    return max(1.0, share * charter.traffic.daily_interactions * charter.canary.max_hold_days)


def tuning_n(charter: Charter) -> float:
    """Both arms' trials at which the success-gap confidence sequence is tightest (GrowthBook's N*).

    That is all traffic over the longest allowed hold: `traffic.daily_interactions` × `canary.max_hold_days`.
    Public for the same reason as `tuning_trials`: a plan or a simulation of the non-inferiority check must use
    the sequence the daily decision uses.

    >>> from rolloutkit.charter import parse_charter
    >>> charter = parse_charter({"agent": "a", "task": "t", "traffic": {"daily_interactions": 4000},
    ...     "success_metric": {"name": "s", "noninferiority_margin": 0.02},
    ...     "failure_modes": [{"name": "f", "max_rate": 0.01}],
    ...     "rollback_triggers": [{"metric": "success_rate", "below": 0.5}]})
    >>> tuning_n(charter)
    56000.0
    """
    return float(charter.traffic.daily_interactions * charter.canary.max_hold_days)


#: Regressed task ids a sentence names before it says how many more there are.
_IDS_SHOWN = 12


def _p(p_value: float) -> str:
    """A p-value as a person reads it: "p < 0.001", "p = 0.012"."""
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.2g}"


def _signed(share: float) -> str:
    """A difference as a signed percentage: +1.2%, -7.9%."""
    return ("+" if share > 0 else "") + pct(share)


def _days(trials_left: float, per_day: float) -> int | None:
    if trials_left <= 0:
        return 0
    return math.ceil(trials_left / per_day) if per_day > 0 else None


def zero_tolerance_check(view: StageView, mode: FailureMode) -> Check:
    """Any occurrence at the current stage rolls back."""
    x, n = view.totals(view.agent, failure_column(mode.name)), view.totals(view.agent, "n")
    interval = stats.bernoulli_confidence_sequence(x, n, alpha=view.charter.canary.alpha,
                                                   tuning_trials=tuning_trials(view.charter, view.share))
    if x:
        sentence = f"{mode.name} occurred {plural(x, 'time')} at this stage; it is zero-tolerance."
    else:
        sentence = f"No {mode.name} in {n:,} agent interactions at this stage."
    return Check(name=f"zero_tolerance:{mode.name}", status="fail" if x else "pass", estimate=interval.estimate,
                 lower=interval.lower, upper=interval.upper, threshold=0.0, sentence=sentence, on_fail="rollback")


def failure_rate_check(view: StageView, mode: FailureMode, *, plan: bool = True) -> Check:
    """Confidence sequence on the agent's rate: lower above the limit rolls back, upper below it passes.

    `plan=False` skips the search for the days needed (the decision history does not show them).
    """
    charter = view.charter
    x, n = view.totals(view.agent, failure_column(mode.name)), view.totals(view.agent, "n")
    alpha, tuning = charter.canary.alpha, tuning_trials(charter, view.share)
    interval = stats.bernoulli_confidence_sequence(x, n, alpha=alpha, tuning_trials=tuning)
    limit = pct(mode.max_rate)
    name = f"failure_rate:{mode.name}"
    if n and interval.lower > mode.max_rate:
        return Check(name=name, status="fail", estimate=interval.estimate, lower=interval.lower, upper=interval.upper,
                     threshold=mode.max_rate,
                     sentence=f"{mode.name} is at least {pct(interval.lower)} ({x} in {n:,}), above its {limit} limit.",
                     on_fail="rollback")
    if n and interval.upper < mode.max_rate:
        return Check(name=name, status="pass", estimate=interval.estimate, lower=interval.lower, upper=interval.upper,
                     threshold=mode.max_rate,
                     sentence=f"{mode.name} is at most {pct(interval.upper)} ({x} in {n:,}), below its {limit} limit.",
                     on_fail="rollback")
    days = None
    if plan:
        needed = stats.trials_until_upper_below(mode.max_rate, x / n if n else 0.0, alpha=alpha,
                                                tuning_trials=tuning)
        days = None if needed is None else _days(needed - n, view.agent_per_day)
    if n == 0:
        sentence = f"No agent traffic at this stage yet to bound {mode.name} against its {limit} limit."
    else:
        sentence = (f"{mode.name} is between {pct(interval.lower)} and {pct(interval.upper)} ({x} in {n:,}); "
                    f"not yet shown below its {limit} limit.")
    return Check(name=name, status="insufficient", estimate=interval.estimate, lower=interval.lower,
                 upper=interval.upper, threshold=mode.max_rate, sentence=sentence, on_fail="rollback", days_needed=days)


def noninferiority_check(view: StageView, *, plan: bool = True) -> Check:
    """Confidence sequence on agent − human success: wholly below −margin rolls back, wholly above passes."""
    charter = view.charter
    margin = charter.success_metric.noninferiority_margin
    xa, na = view.totals(view.agent, "successes"), view.totals(view.agent, "n")
    xh, nh = view.totals(view.human, "successes"), view.totals(view.human, "n")
    alpha = charter.canary.alpha
    gap = stats.diff_confidence_sequence(xa, na, xh, nh, alpha=alpha, tuning_n=tuning_n(charter))
    name, metric = "success_noninferiority", charter.success_metric.name
    if view.share >= 1:  # the few human rows at 100% are a drill's minutes at 0%, not a comparison arm
        return Check(name=name, status="insufficient", threshold=-margin,
                     sentence="No human-only path at 100%: the success gap is not measured at this stage.",
                     on_fail="rollback")
    words = f"agent − human {metric} is between {_signed(gap.lower)} and {_signed(gap.upper)}"
    if gap.error is None and gap.upper < -margin:
        return Check(name=name, status="fail", estimate=gap.estimate, lower=gap.lower, upper=gap.upper,
                     threshold=-margin,
                     sentence=f"The agent is worse than humans beyond the margin: {words}, below −{pct(margin)}.",
                     on_fail="rollback")
    if gap.error is None and gap.lower > -margin:
        return Check(name=name, status="pass", estimate=gap.estimate, lower=gap.lower, upper=gap.upper,
                     threshold=-margin, sentence=f"Non-inferior: {words}, above −{pct(margin)}.", on_fail="rollback")
    days = None
    # at 0% (a rollback draining its last agent rows) there is no split to plan with
    if plan and na and nh and 0 < view.share < 1:
        needed = stats.trials_until_diff_above(margin, xa / na, xh / nh, view.share, alpha=alpha,
                                               tuning_n=tuning_n(charter))
        days = None if needed is None else _days(needed - na - nh, view.total_per_day)
    sentence = (f"Not yet shown non-inferior: {words}; it must be above −{pct(margin)}." if gap.error is None
                else f"Not enough agent and human traffic at this stage to compare {metric}.")
    return Check(name=name, status="insufficient", estimate=gap.estimate, lower=gap.lower, upper=gap.upper,
                 threshold=-margin, sentence=sentence, on_fail="rollback", days_needed=days)


def trigger_check(view: StageView, index: int, trigger: RollbackTrigger) -> Check:
    """A charter rollback trigger as an observed value over its trailing window (within the current stage)."""
    window_start = view.as_of - dt.timedelta(days=trigger.window_days - 1)
    agent = view.agent.filter(pl.col("day") >= window_start)
    human = view.human.filter(pl.col("day") >= window_start)
    na, nh = view.totals(agent, "n"), view.totals(human, "n")
    value: float | None = None
    if trigger.metric == "success_rate" and na:
        value = view.totals(agent, "successes") / na
    elif trigger.metric == "success_gap" and na and nh:
        value = view.totals(agent, "successes") / na - view.totals(human, "successes") / nh
    elif trigger.metric == "failure_rate" and na:
        value = view.totals(agent, failure_column(trigger.failure_mode or "")) / na
    elif trigger.metric == "guardrail_breaches" and na:
        value = float(sum(view.totals(agent, c) for c in GUARDRAIL_WORDS))
    elif trigger.metric == "cost_per_task" and view.totals(agent, "cost_n"):
        value = float(agent["cost_usd"].sum()) / view.totals(agent, "cost_n")
    threshold = trigger.above if trigger.above is not None else trigger.below
    name = f"trigger:{index}"
    if value is None:
        why = ("no cost_usd reported by the agent" if trigger.metric == "cost_per_task"
               else "no agent traffic" if not na else "no human traffic")
        return Check(name=name, status="insufficient", threshold=threshold,
                     sentence=f"Trigger {trigger.label}: not observable ({why} in the window).", on_fail="rollback")
    fired = value > trigger.above if trigger.above is not None else value < (trigger.below or 0.0)
    if trigger.metric == "guardrail_breaches":
        shown = plural(int(value), "breach", "breaches")
    elif trigger.metric == "cost_per_task":
        shown = f"${value:,.2f}" if value >= 0.1 else f"${value:.4f}"
    else:
        shown = _signed(value) if trigger.metric == "success_gap" else pct(value)
    verdict = "fired" if fired else "not fired"
    return Check(name=name, status="fail" if fired else "pass", estimate=value, threshold=threshold,
                 sentence=f"Trigger {trigger.label}: {verdict} (observed {shown}).", on_fail="rollback")


def guardrail_check(view: StageView) -> Check:
    """Breaches over the last `min_hold_days` of the stage; any breach holds until that many clean days pass."""
    guard = view.charter.guardrails
    if guard is None:
        return Check(name="guardrails", status="pass", sentence="The charter sets no guardrails.", on_fail="hold")
    hold = view.charter.canary.min_hold_days
    window = view.agent.filter(pl.col("day") > view.as_of - dt.timedelta(days=hold))
    configured = [k for k, (field, _) in _GUARDRAIL_SOURCES.items() if getattr(guard, field) is not None]
    breaches = {k: view.totals(window, k) for k in configured}
    total = sum(breaches.values())
    if total:
        named = "; ".join(f"{v} {GUARDRAIL_WORDS[k]}" for k, v in breaches.items() if v)
        last = window.filter(pl.sum_horizontal(configured) > 0)["day"].max()
        return Check(name="guardrails", status="fail", estimate=float(total), threshold=0.0,
                     sentence=f"Guardrail breaches in the last {hold} days: {named} (last on {last}).", on_fail="hold",
                     days_needed=(last - view.as_of).days + hold)
    unmeasured = [_GUARDRAIL_SOURCES[k][1] for k in configured if k not in view.guardrail_columns]
    if unmeasured:
        return Check(name="guardrails", status="insufficient", threshold=0.0,
                     sentence=f"Guardrails cannot be checked: the canary table has no {', '.join(unmeasured)} column.",
                     on_fail="hold")
    return Check(name="guardrails", status="pass", estimate=0.0, threshold=0.0,
                 sentence=f"No guardrail breach in the last {hold} days.", on_fail="hold")


def srm_check(view: StageView) -> Check:
    """Observed agent share vs the flag over this stage's traffic (chi-square at 0.001)."""
    test = stats.srm_test(view.srm_agent, view.srm_total, view.share, alpha=SRM_ALPHA)
    if test.error is not None:
        return Check(name="srm", status="insufficient", threshold=view.share, sentence="No traffic at this stage yet.",
                     on_fail="hold")
    band = stats.wilson_interval(view.srm_agent, view.srm_total, confidence=1 - SRM_ALPHA)
    observed = (f"the agent got {pct(band.estimate)} of {view.srm_total:,} interactions against a "
                f"{pct(view.share)} flag")
    if test.reject:
        return Check(name="srm", status="fail", estimate=band.estimate, lower=band.lower, upper=band.upper,
                     threshold=view.share,
                     sentence=f"Traffic split does not match the flag: {observed} ({_p(test.p_value)}).",
                     on_fail="hold")
    return Check(name="srm", status="pass", estimate=band.estimate, lower=band.lower, upper=band.upper,
                 threshold=view.share, sentence=f"Traffic split matches the flag: {observed}.", on_fail="hold")


def bake_time_check(view: StageView) -> Check:
    hold = view.charter.canary.min_hold_days
    days = view.days_at_stage
    status: Status = "pass" if days >= hold else "insufficient"
    return Check(name="bake_time", status=status, estimate=float(days), threshold=float(hold),
                 sentence=f"{days} of at least {hold} days at this stage.", on_fail="hold",
                 days_needed=max(0, hold - days))


def stability_check(view: StageView) -> Check:
    """Daily agent success and failure rates over the hold window consistent with one constant rate.

    Exact binomial limits per day (3-sigma p-chart limits misfire on small counts) plus a Cochran–Armitage trend
    test, with `STABILITY_ALPHA` split evenly over the series, and within a series half to the days (Bonferroni)
    and half to the trend, so the whole check false-alarms at most about 1% over the window.
    """
    hold = view.charter.canary.min_hold_days
    window = view.agent.filter(pl.col("day") > view.as_of - dt.timedelta(days=hold), pl.col("n") > 0)
    if window.height < 2:
        return Check(name="stability", status="insufficient", threshold=0.0,
                     sentence="Fewer than two days of agent traffic at this stage to judge stability.", on_fail="hold",
                     days_needed=2 - window.height)
    series = [("success", "successes")] + [(m.name, failure_column(m.name)) for m in view.charter.failure_modes
                                            if m.max_rate > 0]
    per_series = STABILITY_ALPHA / len(series)
    trials = window["n"].to_numpy()
    findings = []
    for label, column in series:
        x = window[column].to_numpy()
        limits = stats.binomial_control_limits(trials, float(x.sum() / trials.sum()),
                                               alpha=per_series / 2 / window.height)
        out = np.flatnonzero((x < limits.lower) | (x > limits.upper))
        for i in out:
            side = "above" if x[i] > limits.upper[i] else "below"
            findings.append(f"{label} {side} its daily limits on {window['day'][int(i)]} ({x[i]} in {trials[i]:,})")
        trend = stats.trend_test(x, trials, alpha=per_series / 2)
        if trend.reject:
            findings.append(f"{label} trends {'up' if trend.statistic > 0 else 'down'} ({_p(trend.p_value)})")
    if findings:
        return Check(name="stability", status="fail", estimate=float(len(findings)), threshold=0.0,
                     sentence="Not stable over the hold window: " + "; ".join(findings) + ".", on_fail="hold")
    return Check(name="stability", status="pass", estimate=0.0, threshold=0.0,
                 sentence=f"Daily rates over the last {window.height} days are consistent with a constant rate.",
                 on_fail="hold")


def incidents_check(view: StageView) -> Check:
    """An open sev1 or sev2 incident opened during the current stage holds it, named by id (staff references,
    never the summary); lower severities are listed and do not hold."""
    if view.incidents is None:
        return Check(name="incidents", status="pass", threshold=0.0,
                     sentence="No incident log in this workspace: no incidents to check.", on_fail="hold")
    blocking = [i for i in view.incidents if i.open and i.severity in BLOCKING_SEVERITIES]
    others = [i for i in view.incidents if i not in blocking]
    also = f" Also at this stage: {', '.join(i.words for i in others)}." if others else ""
    if blocking:
        named = ", ".join(f"{i.incident_id} ({i.severity}, {i.kind.replace('_', ' ')}, opened {i.opened_on})"
                          for i in blocking)
        return Check(name="incidents", status="fail", estimate=float(len(blocking)), threshold=0.0,
                     sentence=f"Open sev1/sev2 {'incident' if len(blocking) == 1 else 'incidents'} opened at this "
                              f"stage: {named}; the stage holds until {'it is' if len(blocking) == 1 else 'they are'} "
                              f"closed.{also}", on_fail="hold")
    return Check(name="incidents", status="pass", estimate=0.0, threshold=0.0,
                 sentence=f"No open sev1 or sev2 incident opened at this stage.{also}", on_fail="hold")


def eval_regressions_check(view: StageView) -> Check:
    """Eval tasks the version run before the live one passed and the live one fails, by task id: a regressed
    prior failure or adversarial task holds the stage, and so does a significant regression overall; other
    regressions are named for review."""
    live, name = view.live, "eval_regressions"
    if not view.has_evals:
        version = f" of {live.version}" if live else ""
        return Check(name=name, status="pass", threshold=0.0, on_fail="hold",
                     sentence=f"No eval set in this workspace: regressions{version} are not checked.")
    if live is None:
        return Check(name=name, status="pass", threshold=0.0, on_fail="hold",
                     sentence=f"No agent version run on the eval set by {view.as_of}.")
    if live.run_day is None:
        return Check(name=name, status="insufficient", threshold=0.0, on_fail="hold",
                     sentence=f"The live version {live.words} has not been run on the eval set; run it there.")
    if live.baseline is None:
        return Check(name=name, status="pass", estimate=0.0, threshold=0.0, on_fail="hold",
                     sentence=f"{live.version} is the first version run on the eval set: nothing to regress against.")
    holding, n = live.holding, len(live.regressed)
    who = f"The live version {live.version} ({VERSION_SOURCES[live.source]})"
    if holding:
        why = (f"regressed significantly against {live.baseline} ({n} tasks regressed, {live.fixed} fixed; "
               f"{live.p_text})" if live.significant
               else f"fails {plural(len(holding), 'prior-failure or adversarial task')} {live.baseline} passed")
        rest = [t for t, c in zip(live.regressed, live.categories, strict=True)
                if not live.significant and c not in BLOCKING_CATEGORIES]
        also = f"; it also regressed on {_ids(rest)}" if rest else ""
        return Check(name=name, status="fail", estimate=float(len(holding)), threshold=0.0, on_fail="hold",
                     sentence=f"{who} {why}: {_ids(holding)}{also}. The stage holds until a version that passes "
                              "them is live.")
    if n:
        return Check(name=name, status="pass", estimate=0.0, threshold=0.0, on_fail="hold",
                     sentence=f"{who} regressed on {plural(n, 'typical or edge task')} {live.baseline} passed "
                              f"({_ids(live.regressed)}) and fixed {live.fixed}; not significant ({live.p_text}), "
                              "so they are for review, not a hold.")
    return Check(name=name, status="pass", estimate=0.0, threshold=0.0, on_fail="hold",
                 sentence=f"{who} fails no eval task {live.baseline} passed (it fixed {live.fixed}).")


def _ids(tasks: tuple[str, ...] | list[str]) -> str:
    """Task ids for a sentence, the first `_IDS_SHOWN` of them and how many more."""
    more = len(tasks) - _IDS_SHOWN
    return ", ".join(tasks[:_IDS_SHOWN]) + (f" and {more} more" if more > 0 else "")


def freshness_check(view: StageView) -> Check:
    """Canary data that ends before the day of the decision holds it: a stopped export must not look fresh."""
    last = view.last_data_day
    if last is None:
        return Check(name="freshness", status="fail", threshold=0.0, on_fail="hold",
                     sentence=f"The canary data has no day up to {view.as_of}.")
    lag = (view.as_of - last).days
    if lag > 0:
        return Check(name="freshness", status="fail", estimate=float(lag), threshold=0.0, on_fail="hold",
                     sentence=f"The canary data ends on {last}, {plural(lag, 'day')} before {view.as_of}: the "
                              "export may have stopped, and the stage holds until the data is fresh.")
    return Check(name="freshness", status="pass", estimate=0.0, threshold=0.0, sentence=f"Data reaches {view.as_of}.",
                 on_fail="hold")


def all_checks(view: StageView, *, plan: bool = True) -> list[Check]:
    """Every check, in the order a reader should see them; `plan=False` skips the days-needed searches."""
    charter = view.charter
    checks = [zero_tolerance_check(view, m) for m in charter.zero_tolerance_modes]
    checks += [failure_rate_check(view, m, plan=plan) for m in charter.failure_modes if m.max_rate > 0]
    checks.append(noninferiority_check(view, plan=plan))
    checks += [trigger_check(view, i, t) for i, t in enumerate(charter.rollback_triggers, start=1)]
    checks += [guardrail_check(view), srm_check(view), bake_time_check(view), stability_check(view),
               incidents_check(view), eval_regressions_check(view), freshness_check(view)]
    return checks
