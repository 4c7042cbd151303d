"""The daily decision: the checks of the stage in force on a day → expand, hold or roll back; and its history."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from rolloutkit import stats
from rolloutkit.canary._checks import all_checks, tuning_n, tuning_trials
from rolloutkit.canary._counts import counts_of
from rolloutkit.canary._results import CanaryCounts, Readiness, StageView, failure_column
from rolloutkit.canary._stages import stage_view
from rolloutkit.charter import Charter
from rolloutkit.checks import Check
from rolloutkit.text import stage
from rolloutkit.workspace import Workspace


def readiness(ws: Workspace | CanaryCounts, *, as_of: dt.date | str | None = None) -> Readiness:
    """Today's decision for the stage in force at the end of `as_of` (None = the last day with data)."""
    counts = counts_of(ws.cut(as_of) if isinstance(ws, Workspace) else ws, as_of)
    if as_of is None or isinstance(ws, Workspace):
        return evaluate(counts, counts.as_of)
    return evaluate(counts, as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(as_of))


def evaluate(counts: CanaryCounts, as_of: dt.date, *, plan: bool = True) -> Readiness:
    """The decision from counts as they stood at the end of `as_of`, any day up to `counts.as_of`.

    For many days from one aggregation (what `decision_history` does, or a study of the day a stage first
    passes): read `canary_counts` once, then evaluate each day. `plan=False` skips the search for the days
    needed and whether the next stage's share would get there, the slow part, when only the decision matters.
    """
    view = stage_view(counts, as_of)
    checks = all_checks(view, plan=plan)
    charter = counts.charter
    stages = charter.canary.stages
    policy = charter.canary
    final = view.share >= stages[-1]
    later = [s for s in stages if s > view.share]
    next_stage = later[0] if later else None
    rollback = [c for c in checks if c.status == "fail" and c.on_fail == "rollback"]
    blockers = [c for c in checks if c.status != "pass"]
    base = dict(agent=charter.agent, as_of=as_of, stage=view.share, stage_started=view.started,
                days_at_stage=view.days_at_stage, next_stage=next_stage, checks=tuple(checks), overdue=False,
                max_hold_days=policy.max_hold_days, stage_change=view.change, final_stage=final,
                live_version=view.live, stage_incidents=view.incidents)
    if view.share == 0:
        since = f" since {view.started_day}" if view.started_day else ""
        why = (f"The agent is at 0%{since} after a rollback; re-enter the ladder at {stage(stages[0])} once the "
               "cause is fixed." if view.change == "rollback" else "The canary has not started: the flag is at 0%.")
        return Readiness(**base, decision="hold", reasons=(why,), days_needed=None)
    if rollback:
        return Readiness(**{**base, "next_stage": None if final else next_stage}, decision="rollback",
                         reasons=tuple(c.sentence for c in rollback), days_needed=None, driver=rollback[0].name)
    if final:
        reasons = ("The rollout is complete at 100%: there is no next stage; supervision applies (sampled review, "
                   "incident log, rollback drills).", *(c.sentence for c in blockers if c.status == "fail"))
        return Readiness(**base, decision="hold", reasons=reasons, days_needed=None)
    if not blockers:
        return Readiness(**base, decision="expand", reasons=(
            f"Every check passed after {view.days_at_stage} days at {stage(view.share)}.",), days_needed=None)
    days, note, share = _days_needed(view, blockers, next_stage, plan=plan)
    timed = [c for c in blockers if c.days_needed is not None]
    # stale data makes every other check suspect: when freshness fails, it drives the hold
    fixes = sorted((c for c in blockers if c.status == "fail" and c.days_needed is None),
                   key=lambda c: c.name != "freshness")
    if fixes:
        driver = fixes[0].name
    elif plan and timed and days is not None:
        driver = max(timed, key=lambda c: c.days_needed or 0).name
    else:
        driver = blockers[0].name
    ordered = sorted(blockers, key=lambda c: c.name != driver)
    reasons = [c.sentence for c in ordered]
    # at the maximum hold there is no day left to wait: the decision is due, and the charter says what may follow
    overdue = view.days_at_stage >= policy.max_hold_days
    if overdue:
        reasons.append(f"The decision is overdue: day {view.days_at_stage} at {stage(view.share)}, and the "
                       f"maximum hold is {policy.max_hold_days} days; {_after_max_hold(charter)}")
    return Readiness(**{**base, "overdue": overdue}, decision="hold", reasons=tuple(reasons), days_needed=days,
                     driver=driver, days_needed_note=note, share_needed=share)


def _after_max_hold(charter: Charter) -> str:
    """What the charter allows once the maximum hold has run out, naming whose sign-off a longer hold needs."""
    who = (f"the sign-off of {charter.owner}, the owner" if charter.owner
           else "a named owner's sign-off (the charter names no `owner`: add one)")
    return f"the charter allows two courses: hold longer with {who}, or roll back."


def _days_needed(view: StageView, blockers: list[Check], next_stage: float | None, *,
                 plan: bool) -> tuple[int | None, str | None, float | None]:
    """Days until every blocker can pass; past the hold window, a statement of what the charter allows and
    whether the next stage's share (never more) would get there in time."""
    fixes = [c for c in blockers if c.status == "fail"]
    if fixes and any(c.days_needed is None for c in fixes):
        names = ", ".join(c.label for c in fixes if c.days_needed is None)
        return None, f"Needs a fix, not more days: {names}.", None
    unknown = [c.label for c in blockers if c.days_needed is None]
    if unknown:
        return None, f"No estimate of the days needed: {', '.join(unknown)} will not pass with more days alone.", \
            None
    days = max(c.days_needed or 0 for c in blockers)
    policy = view.charter.canary
    left = policy.max_hold_days - view.days_at_stage
    if days <= left or not plan:
        return days, None, None
    share = _share_needed(view, blockers, max(left, 1), next_stage)
    note = (f"At today's traffic this stage needs about {days} more days, past the "
            f"{policy.max_hold_days}-day maximum hold ({max(left, 0)} left). ")
    if share is not None:
        note += (f"The next stage's share ({stage(share)}) would bring enough traffic within the hold window, but "
                 "expanding before this stage passes needs the owner's sign-off. ")
    elif next_stage is not None:
        note += f"Even the next stage's share ({stage(next_stage)}) would not get there in time. "
    if left > 0 and view.started_day is not None:  # at the maximum hold, the overdue reason says it
        end = view.started_day + dt.timedelta(days=policy.max_hold_days - 1)
        note += f"When the maximum hold runs out on {end}, {_after_max_hold(view.charter)}"
    return days, note.strip(), share


def _share_needed(view: StageView, blockers: list[Check], days_left: int, next_stage: float | None) -> float | None:
    """The next stage's share when the traffic-bound checks would pass at it within `days_left` days, else None.
    Never a share beyond the next stage: advice must not skip the ladder."""
    if next_stage is None:
        return None
    charter = view.charter
    alpha = charter.canary.alpha
    names = {c.name for c in blockers}
    na, nh = view.totals(view.agent, "n"), view.totals(view.human, "n")
    needs: list[int] = []
    for mode in charter.failure_modes:
        if f"failure_rate:{mode.name}" in names:
            x = view.totals(view.agent, failure_column(mode.name))
            needed = stats.trials_until_upper_below(mode.max_rate, x / na if na else 0.0, alpha=alpha,
                                                    tuning_trials=tuning_trials(charter, view.share))
            if needed is None:
                return None
            needs.append(needed - na)
    agent_per_day = next_stage * view.total_per_day
    fast_enough = all(math.ceil(left / agent_per_day) <= days_left for left in needs)
    if "success_noninferiority" in names and 0 < next_stage < 1 and na and nh:
        xa, xh = view.totals(view.agent, "successes"), view.totals(view.human, "successes")
        total = stats.trials_until_diff_above(charter.success_metric.noninferiority_margin, xa / na, xh / nh,
                                              next_stage, alpha=alpha, tuning_n=tuning_n(charter))
        fast_enough = fast_enough and total is not None and math.ceil(
            (total - na - nh) / view.total_per_day) <= days_left
    return next_stage if fast_enough else None


def decision_history(ws: Workspace | CanaryCounts, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """The decision each canary day would have given: day, stage, days_at_stage, decision, driver (the check's
    name), driver_label (in words), reason, next_stage, stage_change.

    One row per day from the first flag change above 0% to `as_of`, from one aggregation of the canary table.
    `stage_change` marks the first day of each stage epoch (a ramp, a step down or a rollback).
    """
    counts = counts_of(ws, as_of)
    first = counts.epochs.filter(pl.col("share") > 0)["start_day"].min()
    schema = {"day": pl.Date, "stage": pl.Float64, "days_at_stage": pl.Int64, "decision": pl.String,
              "driver": pl.String, "driver_label": pl.String, "reason": pl.String, "next_stage": pl.Float64,
              "stage_change": pl.String}
    if first is None or first > counts.as_of:
        return pl.DataFrame(schema=schema)
    rows = []
    starts = set(counts.epochs["start_day"].drop_nulls().to_list())
    for day in pl.date_range(first, counts.as_of, "1d", eager=True).to_list():
        result = evaluate(counts, day, plan=False)
        rows.append({"day": day, "stage": result.stage, "days_at_stage": result.days_at_stage,
                     "decision": result.decision, "driver": result.driver,
                     "driver_label": result.check(result.driver).label if result.driver else None,
                     "reason": result.reasons[0], "next_stage": result.next_stage,
                     "stage_change": result.stage_change if day in starts else None})
    return pl.DataFrame(rows, schema=schema)
