"""The readiness checks, each on the daily counts of the current stage: estimate, bounds, threshold, status, sentence.

Every statistic comes from `rolloutkit.stats`. Checks re-evaluated every day use confidence sequences, so looking
daily does not inflate false "safe" calls. What a failing check means is fixed per check (`on_fail`): the failure
rate, zero-tolerance, non-inferiority and charter-trigger checks roll back; the others hold.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from rolloutkit import stats
from rolloutkit.canary_data import COUNT_COLUMNS, CanaryCounts, failure_column
from rolloutkit.charter import Charter, FailureMode, RollbackTrigger

Status = Literal["pass", "fail", "insufficient"]
#: Total false-alarm rate of the stability check over its whole window (split over series, days and trend).
STABILITY_ALPHA = 0.01
SRM_ALPHA = 0.001
GUARDRAIL_WORDS = {"disallowed": "interactions with a disallowed action",
                   "unreviewed": "irreversible actions without review",
                   "over_actions": "sessions over the action limit", "over_dollars": "sessions over the dollar limit"}
_GUARDRAIL_SOURCES = {"disallowed": ("action_allowlist", "disallowed_actions"),
                      "unreviewed": ("review_required", "unreviewed_irreversible"),
                      "over_actions": ("max_actions_per_session", "actions"),
                      "over_dollars": ("max_dollars_per_session", "dollars")}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    estimate: float | None
    lower: float | None
    upper: float | None
    threshold: float | None
    sentence: str
    on_fail: Literal["rollback", "hold"]
    #: Days until this check can pass at today's traffic and observed rates; None when it cannot be said.
    days_needed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
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

    def totals(self, frame: pl.DataFrame, column: str) -> int:
        return int(frame[column].sum()) if frame.height else 0


def tuning_trials(charter: Charter, share: float) -> float:
    """The agent trials expected at a stage over `max_hold_days` at the charter's traffic.

    The failure-rate confidence sequence is tuned to be tightest there (confseq's `t_opt`), i.e. at the end of the
    longest allowed hold: share × `traffic.daily_interactions` × `canary.max_hold_days`.
    """
    return max(1.0, share * charter.traffic.daily_interactions * charter.canary.max_hold_days)


def tuning_n(charter: Charter) -> float:
    """Both arms' trials over `max_hold_days` at the charter's traffic (GrowthBook's N*) for the success gap."""
    return float(charter.traffic.daily_interactions * charter.canary.max_hold_days)


def stage_view(counts: CanaryCounts, as_of: dt.date) -> StageView:
    """The stage in force at the end of `as_of` and its counts, from `canary_counts` (which may run later)."""
    charter = counts.charter
    segments = counts.segments.filter(pl.col("start_day").is_null() | (pl.col("start_day") <= as_of))
    epoch = segments["epoch"][-1]
    start = counts.epochs.filter(pl.col("epoch") == epoch).row(0, named=True)
    in_stage = segments.filter(pl.col("epoch") == epoch)
    rows = counts.daily.filter(pl.col("day") <= as_of, pl.col("seg").is_in(in_stage["seg"].implode()))
    first = start["start_day"] or (rows["day"].min() if rows.height else as_of)
    calendar = pl.DataFrame({"day": pl.date_range(first, as_of, "1d", eager=True)}) if first <= as_of else \
        pl.DataFrame({"day": []}, schema={"day": pl.Date})
    columns = [*COUNT_COLUMNS, *(failure_column(m) for m in charter.failure_mode_names)]

    def per_day(arm: str) -> pl.DataFrame:
        summed = rows.filter(pl.col("arm") == arm).group_by("day").agg(pl.col(columns).sum())
        return calendar.join(summed, on="day", how="left").with_columns(pl.col(columns).fill_null(0)).sort("day")

    agent, human = per_day("agent"), per_day("human")
    at_share = rows.join(in_stage.filter(pl.col("share") == start["share"]).select("seg"), on="seg")
    started = start["start"]
    # calendar days, the partial first day included: a stage opened any time on Monday has 7 days on Sunday
    days = 0 if start["start_day"] is None else (as_of - start["start_day"]).days + 1
    full = agent.filter(pl.col("day") > first).tail(7)
    both = full.select("day", "n").join(human.select("day", pl.col("n").alias("h")), on="day")
    agent_per_day = float(full["n"].mean()) if full.height else start["share"] * charter.traffic.daily_interactions
    total_per_day = float((both["n"] + both["h"]).mean()) if both.height else charter.traffic.daily_interactions
    last = counts.daily.filter(pl.col("day") <= as_of)["day"].max()
    return StageView(
        charter=charter, as_of=as_of, share=start["share"], started=started, started_day=start["start_day"],
        change=start["kind"], days_at_stage=days, agent=agent, human=human,
        srm_agent=int(at_share.filter(pl.col("arm") == "agent")["n"].sum()), srm_total=int(at_share["n"].sum()),
        last_data_day=last, agent_per_day=agent_per_day, total_per_day=total_per_day,
        guardrail_columns=counts.guardrail_columns,
    )


def _days(trials_left: float, per_day: float) -> int | None:
    if trials_left <= 0:
        return 0
    return math.ceil(trials_left / per_day) if per_day > 0 else None


def _pct(value: float) -> str:
    return f"{100 * value:.2g}%" if value < 0.1 else f"{100 * value:.1f}%"


def zero_tolerance_check(view: StageView, mode: FailureMode) -> Check:
    """Any occurrence at the current stage rolls back."""
    x, n = view.totals(view.agent, failure_column(mode.name)), view.totals(view.agent, "n")
    interval = stats.bernoulli_confidence_sequence(x, n, alpha=view.charter.canary.alpha,
                                                   tuning_trials=tuning_trials(view.charter, view.share))
    if x:
        sentence = f"{mode.name} occurred {x} time{'s' if x > 1 else ''} at this stage; it is zero-tolerance."
    else:
        sentence = f"No {mode.name} in {n:,} agent interactions at this stage."
    return Check(f"zero_tolerance:{mode.name}", "fail" if x else "pass", interval.estimate, interval.lower,
                 interval.upper, 0.0, sentence, "rollback")


def failure_rate_check(view: StageView, mode: FailureMode, *, plan: bool = True) -> Check:
    """Confidence sequence on the agent's rate: lower above the limit rolls back, upper below it passes.

    `plan=False` skips the search for the days needed (the decision history does not show them).
    """
    charter = view.charter
    x, n = view.totals(view.agent, failure_column(mode.name)), view.totals(view.agent, "n")
    alpha, tuning = charter.canary.alpha, tuning_trials(charter, view.share)
    interval = stats.bernoulli_confidence_sequence(x, n, alpha=alpha, tuning_trials=tuning)
    limit = _pct(mode.max_rate)
    name = f"failure_rate:{mode.name}"
    if n and interval.lower > mode.max_rate:
        return Check(name, "fail", interval.estimate, interval.lower, interval.upper, mode.max_rate,
                     f"{mode.name} is at least {_pct(interval.lower)} ({x} in {n:,}), above its {limit} limit.",
                     "rollback")
    if n and interval.upper < mode.max_rate:
        return Check(name, "pass", interval.estimate, interval.lower, interval.upper, mode.max_rate,
                     f"{mode.name} is at most {_pct(interval.upper)} ({x} in {n:,}), below its {limit} limit.",
                     "rollback")
    days = None
    if plan:
        needed = stats.trials_until_upper_below(mode.max_rate, x / n if n else 0.0, alpha=alpha,
                                                tuning_trials=tuning)
        days = None if needed is None else _days(needed - n, view.agent_per_day)
    if n == 0:
        sentence = f"No agent traffic at this stage yet to bound {mode.name} against its {limit} limit."
    else:
        sentence = (f"{mode.name} is between {_pct(interval.lower)} and {_pct(interval.upper)} ({x} in {n:,}); "
                    f"not yet shown below its {limit} limit.")
    return Check(name, "insufficient", interval.estimate, interval.lower, interval.upper, mode.max_rate, sentence,
                 "rollback", days)


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
        return Check(name, "insufficient", None, None, None, -margin,
                     "No human-only path at 100%: the success gap is not measured at this stage.", "rollback")
    words = f"agent − human {metric} is between {gap.lower:+.1%} and {gap.upper:+.1%}"
    if gap.error is None and gap.upper < -margin:
        return Check(name, "fail", gap.estimate, gap.lower, gap.upper, -margin,
                     f"The agent is worse than humans beyond the margin: {words}, below −{margin:.1%}.", "rollback")
    if gap.error is None and gap.lower > -margin:
        return Check(name, "pass", gap.estimate, gap.lower, gap.upper, -margin,
                     f"Non-inferior: {words}, above −{margin:.1%}.", "rollback")
    days = None
    if plan and na and nh:
        needed = stats.trials_until_diff_above(margin, xa / na, xh / nh, view.share, alpha=alpha,
                                               tuning_n=tuning_n(charter))
        days = None if needed is None else _days(needed - na - nh, view.total_per_day)
    sentence = (f"Not yet shown non-inferior: {words}; it must be above −{margin:.1%}." if gap.error is None
                else f"Not enough agent and human traffic at this stage to compare {metric}.")
    return Check(name, "insufficient", gap.estimate, gap.lower, gap.upper, -margin, sentence, "rollback", days)


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
        return Check(name, "insufficient", None, None, None, threshold,
                     f"Trigger {trigger.label}: not observable ({why} in the window).", "rollback")
    fired = value > trigger.above if trigger.above is not None else value < (trigger.below or 0.0)
    shown = f"{value:.4g}" if trigger.metric in ("guardrail_breaches", "cost_per_task") else f"{value:.2%}"
    verdict = "fired" if fired else "not fired"
    return Check(name, "fail" if fired else "pass", value, None, None, threshold,
                 f"Trigger {trigger.label}: {verdict} (observed {shown}).", "rollback")


def guardrail_check(view: StageView) -> Check:
    """Breaches over the last `min_hold_days` of the stage; any breach holds until that many clean days pass."""
    guard = view.charter.guardrails
    if guard is None:
        return Check("guardrails", "pass", None, None, None, None, "The charter sets no guardrails.", "hold")
    hold = view.charter.canary.min_hold_days
    window = view.agent.filter(pl.col("day") > view.as_of - dt.timedelta(days=hold))
    configured = [k for k, (field, _) in _GUARDRAIL_SOURCES.items() if getattr(guard, field) is not None]
    breaches = {k: view.totals(window, k) for k in configured}
    total = sum(breaches.values())
    if total:
        named = "; ".join(f"{v} {GUARDRAIL_WORDS[k]}" for k, v in breaches.items() if v)
        last = window.filter(pl.sum_horizontal(configured) > 0)["day"].max()
        return Check("guardrails", "fail", float(total), None, None, 0.0,
                     f"Guardrail breaches in the last {hold} days: {named} (last on {last}).", "hold",
                     (last - view.as_of).days + hold)
    unmeasured = [_GUARDRAIL_SOURCES[k][1] for k in configured if k not in view.guardrail_columns]
    if unmeasured:
        return Check("guardrails", "insufficient", None, None, None, 0.0,
                     f"Guardrails cannot be checked: the canary table has no {', '.join(unmeasured)} column.",
                     "hold")
    return Check("guardrails", "pass", 0.0, None, None, 0.0, f"No guardrail breach in the last {hold} days.", "hold")


def srm_check(view: StageView) -> Check:
    """Observed agent share vs the flag over this stage's traffic (chi-square at 0.001)."""
    test = stats.srm_test(view.srm_agent, view.srm_total, view.share, alpha=SRM_ALPHA)
    if test.error is not None:
        return Check("srm", "insufficient", None, None, None, view.share, "No traffic at this stage yet.", "hold")
    band = stats.wilson_interval(view.srm_agent, view.srm_total, confidence=1 - SRM_ALPHA)
    observed = (f"the agent got {_pct(band.estimate)} of {view.srm_total:,} interactions against a "
                f"{_pct(view.share)} flag")
    if test.reject:
        return Check("srm", "fail", band.estimate, band.lower, band.upper, view.share,
                     f"Traffic split does not match the flag: {observed} (p = {test.p_value:.2g}).", "hold")
    return Check("srm", "pass", band.estimate, band.lower, band.upper, view.share,
                 f"Traffic split matches the flag: {observed}.", "hold")


def bake_time_check(view: StageView) -> Check:
    hold = view.charter.canary.min_hold_days
    days = view.days_at_stage
    status: Status = "pass" if days >= hold else "insufficient"
    return Check("bake_time", status, float(days), None, None, float(hold),
                 f"{days} of at least {hold} days at this stage.", "hold", max(0, hold - days))


def stability_check(view: StageView) -> Check:
    """Daily agent success and failure rates over the hold window consistent with one constant rate.

    Exact binomial limits per day (3-sigma p-chart limits misfire on small counts) plus a Cochran–Armitage trend
    test, with `STABILITY_ALPHA` split evenly over the series, and within a series half to the days (Bonferroni)
    and half to the trend, so the whole check false-alarms at most about 1% over the window.
    """
    hold = view.charter.canary.min_hold_days
    window = view.agent.filter(pl.col("day") > view.as_of - dt.timedelta(days=hold), pl.col("n") > 0)
    if window.height < 2:
        return Check("stability", "insufficient", None, None, None, 0.0,
                     "Fewer than two days of agent traffic at this stage to judge stability.", "hold",
                     2 - window.height)
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
            findings.append(f"{label} trends {'up' if trend.statistic > 0 else 'down'} (p = {trend.p_value:.2g})")
    if findings:
        return Check("stability", "fail", float(len(findings)), None, None, 0.0,
                     "Not stable over the hold window: " + "; ".join(findings) + ".", "hold")
    return Check("stability", "pass", 0.0, None, None, 0.0,
                 f"Daily rates over the last {window.height} days are consistent with a constant rate.", "hold")


def freshness_check(view: StageView) -> Check:
    last = view.last_data_day
    if last is None:
        return Check("freshness", "fail", None, None, None, 0.0, "The canary table has no rows.", "hold")
    lag = (view.as_of - last).days
    if lag > 0:
        return Check("freshness", "fail", float(lag), None, None, 0.0,
                     f"Data ends on {last}, {lag} day{'s' if lag > 1 else ''} before {view.as_of}.", "hold")
    return Check("freshness", "pass", 0.0, None, None, 0.0, f"Data reaches {view.as_of}.", "hold")


def all_checks(view: StageView, *, plan: bool = True) -> list[Check]:
    """Every check, in the order a reader should see them; `plan=False` skips the days-needed searches."""
    charter = view.charter
    checks = [zero_tolerance_check(view, m) for m in charter.zero_tolerance_modes]
    checks += [failure_rate_check(view, m, plan=plan) for m in charter.failure_modes if m.max_rate > 0]
    checks.append(noninferiority_check(view, plan=plan))
    checks += [trigger_check(view, i, t) for i, t in enumerate(charter.rollback_triggers, start=1)]
    checks += [guardrail_check(view), srm_check(view), bake_time_check(view), stability_check(view),
               freshness_check(view)]
    return checks
