"""Canary readiness: may traffic expand today? A peeking-safe daily decision — expand, hold or roll back.

`readiness(ws)` aggregates the canary table to daily counts (one lazy query, `canary_data`), finds the stage in
force from `flags`, runs every check on the stage's counts (`canary_checks`) and decides:

- **rollback** if any rollback condition holds: a zero-tolerance failure at this stage, a failure rate whose
  confidence-sequence lower bound is above its limit, a success gap whose upper bound is below −margin, or a
  charter rollback trigger that fired on its trailing window;
- **expand** to `next_stage` only if every check passes;
- **hold** otherwise, with `days_needed` (at today's traffic and observed rates, the days until every blocking
  check can pass) or a plain statement that it will not within `max_hold_days` and which share would get there.

At the final stage (100%) there is no next stage: the decision is rollback or hold, `next_stage` is null and the
reasons say the rollout is complete and supervision applies. At 0% (before the canary or after a rollback) the
decision is hold with `next_stage` the first stage of the ladder. A stage held past `max_hold_days` is `overdue`.

Conventions: `days_at_stage` counts calendar days in the charter's time zone, the stage's first (partial) day
included; a rollback drill does not restart a stage, a real rollback does (see `canary_data`). Checks look at
the current stage only: charter triggers over their trailing window within the stage, guardrails and stability
over its last `min_hold_days` days (so a breach holds until that many clean days have passed).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from rolloutkit import stats
from rolloutkit.canary_checks import (
    Check,
    StageView,
    all_checks,
    failure_column,
    stage_view,
    tuning_n,
    tuning_trials,
)
from rolloutkit.canary_data import CanaryCounts, canary_counts, stage_epochs, stage_segments
from rolloutkit.canary_series import (
    failure_bounds,
    guardrail_breaches,
    incidents,
    success_gap,
    traffic_share,
)
from rolloutkit.memo import Headline
from rolloutkit.workspace import Workspace

Decision = Literal["expand", "hold", "rollback"]
__all__ = [
    "CanaryCounts", "Check", "Readiness", "canary_counts", "decision_history", "evaluate", "failure_bounds",
    "guardrail_breaches", "headline", "incidents", "readiness", "stage_epochs", "stage_segments", "success_gap",
    "traffic_share", "tuning_n", "tuning_trials",
]


@dataclass(frozen=True)
class Readiness:
    agent: str
    as_of: dt.date
    stage: float
    stage_started: dt.datetime | None
    days_at_stage: int
    decision: Decision
    next_stage: float | None
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    days_needed: int | None
    overdue: bool
    max_hold_days: int
    #: The check that drove the decision (the first rollback condition, or the longest blocker of a hold).
    driver: str | None = None
    #: Why `days_needed` is missing or too long, and what would get there, in plain words.
    days_needed_note: str | None = None
    #: The smallest ladder share at which the blocking checks could pass within the hold window.
    share_needed: float | None = None
    stage_change: str = "start"
    final_stage: bool = False

    @property
    def status(self) -> str:
        """The memo status: good = expand, warn = hold, bad = rollback; info for a healthy rollout at 100%."""
        if self.decision == "rollback":
            return "bad"
        if self.decision == "expand":
            return "good"
        return "info" if self.final_stage and not any(c.status == "fail" for c in self.checks) else "warn"

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent, "as_of": self.as_of.isoformat(), "stage": self.stage,
            "stage_started": self.stage_started.isoformat() if self.stage_started else None,
            "days_at_stage": self.days_at_stage, "decision": self.decision, "next_stage": self.next_stage,
            "reasons": list(self.reasons), "checks": [c.to_dict() for c in self.checks],
            "days_needed": self.days_needed, "overdue": self.overdue, "max_hold_days": self.max_hold_days,
            "driver": self.driver, "days_needed_note": self.days_needed_note, "share_needed": self.share_needed,
            "stage_change": self.stage_change, "final_stage": self.final_stage,
        }

    @property
    def title(self) -> str:
        """A short banner title: "Expand 40% → 80%", "Hold at 15%", "Roll back from 40%", "Stay at 100%"."""
        if self.decision == "rollback":
            return f"Roll back from {_pct(self.stage)}"
        if self.decision == "expand":
            return f"Expand {_pct(self.stage)} → {_pct(self.next_stage or 1)}"
        if self.final_stage:
            return "Stay at 100% under supervision"
        return f"Hold at {_pct(self.stage)}" + (" (overdue)" if self.overdue else "")

    def sentence(self) -> str:
        """The decision in one plain sentence (the memo headline)."""
        at = _pct(self.stage)
        if self.decision == "rollback":
            return f"Roll back from {at} (day {self.days_at_stage} of the stage): {self.reasons[0]}"
        if self.decision == "expand":
            return (f"Expand from {at} to {_pct(self.next_stage or 1)}: every check passed after "
                    f"{self.days_at_stage} days at {at}.")
        if self.stage == 0:
            return self.reasons[0]
        if self.final_stage:
            return f"Stay at 100%: {self.reasons[0]}"
        wait = (f"about {self.days_needed} more day{'s' if self.days_needed != 1 else ''}"
                if self.days_needed is not None else (self.days_needed_note or "no estimate").split(":")[0].lower())
        overdue = " — overdue" if self.overdue else ""
        return f"Hold at {at} (day {self.days_at_stage}{overdue}; {wait}): {self.reasons[0]}"

    def check(self, name: str) -> Check:
        """The check called `name`, e.g. "srm" or "failure_rate:wrong_route"."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check {name!r}; checks are {', '.join(c.name for c in self.checks)}")

    def checks_frame(self) -> pl.DataFrame:
        """The checks as a table for a notebook: name, status, estimate, lower, upper, threshold, sentence."""
        rows = [c.to_dict() for c in self.checks]
        return pl.DataFrame(rows, schema={"name": pl.String, "status": pl.String, "estimate": pl.Float64,
                                          "lower": pl.Float64, "upper": pl.Float64, "threshold": pl.Float64,
                                          "sentence": pl.String, "on_fail": pl.String,
                                          "days_needed": pl.Int64}).select(
            "name", "status", pl.col("estimate", "lower", "upper", "threshold").round_sig_figs(3), "days_needed",
            "sentence")

    def describe(self) -> str:
        lines = [f"{self.agent} as of {self.as_of}: {self.decision.upper()}", self.sentence(), ""]
        started = self.stage_started.date().isoformat() if self.stage_started else "-"
        lines.append(f"stage {_pct(self.stage)} since {started} ({self.days_at_stage} days; max hold "
                     f"{self.max_hold_days}{', OVERDUE' if self.overdue else ''}); next stage: "
                     f"{_pct(self.next_stage) if self.next_stage is not None else 'none'}")
        if self.days_needed is not None and self.decision == "hold":
            lines.append(f"days needed: {self.days_needed}")
        if self.days_needed_note:
            lines.append(self.days_needed_note)
        lines += ["", "reasons:", *(f"  - {r}" for r in self.reasons), "", "checks:"]
        width = max(len(c.name) for c in self.checks)
        lines += [f"  {c.name:<{width}}  {c.status:<12}  {c.sentence}" for c in self.checks]
        return "\n".join(lines)


def _pct(share: float) -> str:
    return f"{100 * share:g}%"


def _source(ws: Workspace | CanaryCounts, as_of: dt.date | str | None) -> CanaryCounts:
    if isinstance(ws, CanaryCounts):
        return ws
    return canary_counts(ws, as_of=as_of)


def readiness(ws: Workspace | CanaryCounts, *, as_of: dt.date | str | None = None) -> Readiness:
    """Today's decision for the stage in force at the end of `as_of` (None = the last day with data)."""
    counts = _source(ws, as_of)
    if as_of is None or isinstance(ws, Workspace):
        return evaluate(counts, counts.as_of)
    return evaluate(counts, as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(as_of))


def evaluate(counts: CanaryCounts, as_of: dt.date, *, plan: bool = True) -> Readiness:
    """The decision from counts as they stood at the end of `as_of`; `plan=False` skips the days-needed search."""
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
    overdue = 0 < view.share < stages[-1] and view.days_at_stage > policy.max_hold_days
    base = dict(agent=charter.agent, as_of=as_of, stage=view.share, stage_started=view.started,
                days_at_stage=view.days_at_stage, next_stage=next_stage, checks=tuple(checks),
                overdue=overdue, max_hold_days=policy.max_hold_days, stage_change=view.change, final_stage=final)
    if view.share == 0:
        since = f" since {view.started_day}" if view.started_day else ""
        why = (f"The agent is at 0%{since} after a rollback; re-enter the ladder at {_pct(stages[0])} once the "
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
            f"Every check passed after {view.days_at_stage} days at {_pct(view.share)}.",), days_needed=None)
    days, note, share = _days_needed(view, blockers, plan=plan)
    timed = [c for c in blockers if c.days_needed is not None]
    fixes = [c for c in blockers if c.status == "fail" and c.days_needed is None]
    if fixes:
        driver = fixes[0].name
    elif plan and timed and days is not None:
        driver = max(timed, key=lambda c: c.days_needed or 0).name
    else:
        driver = blockers[0].name
    ordered = sorted(blockers, key=lambda c: c.name != driver)
    reasons = [c.sentence for c in ordered]
    if overdue:
        reasons.append(f"The stage is overdue: {view.days_at_stage} days at {_pct(view.share)}, past the "
                       f"{policy.max_hold_days}-day maximum hold.")
    return Readiness(**base, decision="hold", reasons=tuple(reasons), days_needed=days, driver=driver,
                     days_needed_note=note, share_needed=share)


def _days_needed(view: StageView, blockers: list[Check], *, plan: bool) -> tuple[int | None, str | None,
                                                                                  float | None]:
    """Days until every blocker can pass, and when that is past the hold window, a statement and a share."""
    fixes = [c for c in blockers if c.status == "fail"]
    if fixes and any(c.days_needed is None for c in fixes):
        names = ", ".join(c.name for c in fixes if c.days_needed is None)
        return None, f"Needs a fix, not more days: {names}.", None
    unknown = [c.name for c in blockers if c.days_needed is None]
    if unknown:
        return None, f"No estimate of the days needed: {', '.join(unknown)} will not pass at the observed rates.", \
            None
    days = max(c.days_needed or 0 for c in blockers)
    left = view.charter.canary.max_hold_days - view.days_at_stage
    if days <= left or not plan:
        return days, None, None
    share = _share_needed(view, blockers, max(left, 1))
    note = (f"At today's traffic this stage needs about {days} more days, past the "
            f"{view.charter.canary.max_hold_days}-day maximum hold ({max(left, 0)} left). ")
    if share is None:
        note += "Even 100% of traffic would not get there in time: the observed rates are too close to the limits."
    else:
        note += f"Routing {_pct(share)} of traffic to the agent would get there within the hold window."
    return days, note, share


def _share_needed(view: StageView, blockers: list[Check], days_left: int) -> float | None:
    """The smallest ladder share at which the traffic-bound checks would pass within `days_left` days."""
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
    for share in [s for s in charter.canary.stages if s > view.share]:
        agent_per_day = share * view.total_per_day
        fast_enough = all(math.ceil(left / agent_per_day) <= days_left for left in needs)
        if "success_noninferiority" in names and 0 < share < 1 and na and nh:
            xa, xh = view.totals(view.agent, "successes"), view.totals(view.human, "successes")
            total = stats.trials_until_diff_above(charter.success_metric.noninferiority_margin, xa / na, xh / nh,
                                                  share, alpha=alpha, tuning_n=tuning_n(charter))
            fast_enough = fast_enough and total is not None and math.ceil(
                (total - na - nh) / view.total_per_day) <= days_left
        if fast_enough:
            return share
    return None


def decision_history(ws: Workspace | CanaryCounts, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """The decision each canary day would have given: day, stage, days_at_stage, decision, driver, reason.

    One row per day from the first flag change above 0% to `as_of`, from one aggregation of the canary table.
    `stage_change` marks the first day of each stage epoch (a ramp, a step down or a rollback).
    """
    counts = _source(ws, as_of)
    first = counts.epochs.filter(pl.col("share") > 0)["start_day"].min()
    schema = {"day": pl.Date, "stage": pl.Float64, "days_at_stage": pl.Int64, "decision": pl.String,
              "driver": pl.String, "reason": pl.String, "next_stage": pl.Float64, "stage_change": pl.String}
    if first is None or first > counts.as_of:
        return pl.DataFrame(schema=schema)
    rows = []
    starts = set(counts.epochs["start_day"].drop_nulls().to_list())
    for day in pl.date_range(first, counts.as_of, "1d", eager=True).to_list():
        result = evaluate(counts, day, plan=False)
        rows.append({"day": day, "stage": result.stage, "days_at_stage": result.days_at_stage,
                     "decision": result.decision, "driver": result.driver, "reason": result.reasons[0],
                     "next_stage": result.next_stage,
                     "stage_change": result.stage_change if day in starts else None})
    return pl.DataFrame(rows, schema=schema)


def headline(ws: Workspace, *, as_of: dt.date | str | None) -> Headline:
    """The summary page's line for canary readiness (missing tables raise `MissingTableError` to the memo)."""
    result = readiness(ws, as_of=as_of)
    return Headline("canary_readiness", "Canary readiness", result.status, result.sentence(),
                    decision=result.decision, details=result.to_dict())
