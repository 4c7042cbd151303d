"""The plan following what happened: the plan made at the start, with the phases that ran at their actual dates,
the ones a later phase overtook skipped, the phase under way ending when readiness expects to say expand, and the
rest as planned. Its 100% day against the plan made at the start (the skipped phases at 0 days) is ahead or behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from rolloutkit import text
from rolloutkit.canary import Readiness
from rolloutkit.timeline._counts import EPS, History, canary_daily, first_day, history
from rolloutkit.timeline._plan import assumptions_from, check_words, plan_from_charter, with_warnings
from rolloutkit.timeline._results import Phase, PhaseKind, PhaseStatus, Plan
from rolloutkit.workspace import Workspace

ONE_DAY = dt.timedelta(days=1)
#: How the phase of each kind is named where a later phase began: "the canary began on …".
_BEGAN = {"setup": "the charter", "shadow": "the shadow", "canary": "the canary", "supervision": "100%"}


def plan(ws: Workspace, *, start: dt.date | str | None = None, as_of: dt.date | str | None = None) -> Plan:
    """The plan for a workspace from what it held on `as_of` (None = the last day with data), following what
    happened: the phases that ran at their actual dates, the ones a later phase overtook skipped, the current one
    ending when readiness expects to say expand, the rest as planned.

    `start` defaults to the first day with data on or before `as_of`, else `as_of` itself.
    """
    day = ws.resolve_as_of(as_of)
    return plan_and_history(ws.cut(day), start=start, day=day)[0]


def plan_and_history(ws: Workspace, *, start: dt.date | str | None, day: dt.date) -> tuple[Plan, History]:
    """The plan following what happened as of `day`, and what happened (for the progress against it)."""
    daily = canary_daily(ws, day)
    start_day = (first_day(ws, day, daily) or day) if start is None else ws.resolve_as_of(start)
    a = assumptions_from(ws, day, daily)
    at_start = plan_from_charter(ws.charter, start=start_day, expected_rates=a.failure_rates,
                                 human_success=a.human_success, success_diff=a.success_diff,
                                 agent_worse_rate=a.agent_worse_rate, source=a.source)
    happened = history(ws, day, daily)
    return follow(at_start, happened), happened


def follow(at_start: Plan, h: History) -> Plan:
    """The plan made at the start, following what happened up to `h.as_of`.

    The phases before the current one take their actual dates, each ending on the day the next began: the
    charter and eval set from the plan's start (or an earlier first eval run), shadow from its first day, each
    canary stage from the first day the flag reached it in the attempt under way (earlier attempts that ended at
    0% make one "canary, rolled back" phase). A phase with no data before the next one began is skipped: 0 days.
    The current phase starts on its actual day; a canary stage ends the day after readiness expects to say
    expand (tomorrow when it says so today, else after its `days_needed`), any other phase after its planned
    length, never before tomorrow. The phases still to come follow at their planned lengths.
    """
    counted = [p for p in at_start.phases if p.counted]
    stages = [p for p in counted if p.kind == "canary"]
    attempt, rolled_back = h.attempt_start, h.rolled_back_on
    candidates: dict[str, dt.date | None] = {p.name: None for p in counted}
    candidates[counted[0].name] = min(at_start.start, h.eval_start or at_start.start)
    candidates.update({p.name: h.shadow_start for p in counted if p.kind == "shadow"})
    if attempt:
        candidates.update({p.name: h.reached(p.share or 0.0, since=attempt) for p in stages})
    reached_100 = h.reached(1.0, since=attempt) if attempt else None
    if reached_100:
        index, current_start = len(counted), reached_100
    elif rolled_back:
        index, current_start = counted.index(stages[0]), h.as_of + ONE_DAY
    elif attempt:
        at = [p for p in stages if p.share is not None and h.flag >= p.share - EPS] or stages[:1]
        index, current_start = counted.index(at[-1]), candidates[at[-1].name] or attempt
    else:
        index = next((i for i, p in enumerate(counted) if p.kind == "shadow" and h.shadow_start), 0)
        current_start = candidates[counted[index].name] or at_start.start
    before = [(p, candidates[p.name]) for p in counted[:index]]
    first = h.first_canary
    if rolled_back or (attempt and first and first < attempt):
        where = next((i for i, (p, _) in enumerate(before) if p.kind == "canary"), len(before))
        before.insert(where, (Phase(name="canary, rolled back", kind="canary", start=first, end=first, days=0,
                                    why="", status="rolled back"), first))
    ahead = counted[index:]
    phases = _past(before, current_start, ahead[0].kind if ahead else "supervision", h)
    if ahead:
        phases.append(_current(ahead[0], current_start, h, restart=rolled_back is not None))
        for p in ahead[1:]:
            phases.append(replace(p, start=phases[-1].end, end=phases[-1].end + dt.timedelta(days=p.days)))
    supervision = next(p for p in at_start.phases if not p.counted)
    hundred = phases[-1].end
    phases.append(replace(supervision, start=hundred, end=hundred + dt.timedelta(days=supervision.days),
                          status="current" if reached_100 else "planned"))
    skipped = {p.name: p.why for p in phases if p.status == "skipped"}
    return with_warnings(replace(at_start, phases=tuple(phases), as_of=h.as_of,
                                 baseline=_rechain(at_start, skipped)))


def _past(before: list[tuple[Phase, dt.date | None]], current_start: dt.date, current_kind: PhaseKind,
          h: History) -> list[Phase]:
    """The phases before the current one at their actual dates, chained back from the current one's start."""
    dated = []
    end = current_start
    for p, candidate in reversed(before):
        start = candidate if candidate is not None and candidate < end else end
        dated.append((p, candidate, start, end))
        end = start
    dated.reverse()
    phases = []
    for i, (p, candidate, start, end) in enumerate(dated):
        status: PhaseStatus = "rolled back" if p.status == "rolled back" else "done" if start < end else "skipped"
        # the phase that began when this one ended: the next one that ran, or the current one
        began = next((q.kind for q, _, s, e in dated[i + 1:] if s < e), current_kind)
        phases.append(replace(p, start=start, end=end, days=(end - start).days, status=status, warning=None,
                              why=_past_why(p, status, candidate, start, end, _BEGAN[began], h)))
    return phases


def _past_why(p: Phase, status: PhaseStatus, candidate: dt.date | None, start: dt.date, end: dt.date,
              began: str, h: History) -> str:
    if status == "rolled back":
        restarts = "restarts" if h.rolled_back_on else "restarted"
        return f"the canary from {start}, rolled back to 0% on {h.last_rollback}; the ladder {restarts} on {end}"
    if p.kind == "canary":
        stage = text.stage(p.share or 0.0)
        return (f"at {stage} from {start} to {end} (the flag history)" if status == "done"
                else f"skipped: the flag went past {stage} on {end}")
    what = "no eval run" if p.kind == "setup" else "no shadow data"
    if status == "skipped":
        data = h.eval_start if p.kind == "setup" else candidate
        return f"skipped: {what}, {began} began on {end}" if data is None else \
            f"skipped: {what} before {began} began on {end}"
    if p.kind == "shadow":
        return f"shadow data from {h.shadow_start} to {h.shadow_end}; {began} began on {end}"
    if h.eval_start == start:
        return f"first eval run on {start}; {began} began on {end}"
    evals = f"first eval run on {h.eval_start}" if h.eval_start else "no eval run on record"
    return f"from the plan's start ({evals}); {began} began on {end}"


def _current(p: Phase, start: dt.date, h: History, *, restart: bool) -> Phase:
    """The phase under way: from its actual start to the day readiness (or else its planned length) ends it."""
    day, tomorrow = h.as_of, h.as_of + ONE_DAY
    if restart:
        return replace(p, start=start, end=start + dt.timedelta(days=p.days), why=(
            f"restarts the ladder after the rollback to 0% on {h.rolled_back_on}; {p.why}"))
    lead = {"canary": f"at {text.stage(p.share or 0.0)} since {start}", "shadow": f"in shadow since {start}"}.get(
        p.kind, f"since {start}")
    r = h.readiness if p.kind == "canary" else None
    planned_end = start + dt.timedelta(days=p.days)
    end = max(planned_end, tomorrow)
    why = f"{lead}; planned {text.plural(p.days, 'day')}: {p.why}"
    if planned_end < tomorrow:
        why += "; past its planned length, it ends tomorrow at the earliest"
    if r is not None and r.decision == "expand":
        end, why = tomorrow, f"{lead}; readiness on {day} says expand: every check passed"
    elif r is not None and r.decision == "hold" and r.days_needed is not None:
        end = day + dt.timedelta(days=r.days_needed + 1)
        longest = f" ({check_words(r.driver).lower()} the longest)" if r.driver else ""
        more = text.plural(r.days_needed, "more day")
        why = f"{lead}; readiness on {day} says hold: {more} at today's traffic{longest}"
    elif r is not None:
        why += f"; readiness on {day} says {r.decision}"
    return replace(p, start=start, end=end, days=(end - start).days, status="current", why=why,
                   warning=p.warning if r is None else _readiness_warning(p.name, r))


def _readiness_warning(name: str, r: Readiness) -> str | None:
    """What readiness says is wrong with the stage under way, if anything."""
    if r.decision == "rollback":
        return f"{name}: readiness on {r.as_of} says roll back: {r.reasons[0]}"
    if r.days_needed_note:
        return f"{name}: {r.days_needed_note}"
    if r.overdue:
        return (f"{name}: {text.plural(r.days_at_stage, 'day')} at the stage, past the {r.max_hold_days}-day maximum "
                "hold (overdue)")
    return None


def _rechain(p: Plan, skipped: Mapping[str, str]) -> Plan:
    """`p` with the `skipped` phases at 0 days (and their why), the others moved up to chain end to start."""
    phases = []
    start = p.start
    for ph in p.phases:
        days = 0 if ph.name in skipped else ph.days
        phases.append(replace(ph, start=start, end=start + dt.timedelta(days=days), days=days,
                              why=skipped.get(ph.name, ph.why), status="skipped" if ph.name in skipped else "planned",
                              warning=None if ph.name in skipped else ph.warning))
        start = phases[-1].end
    return with_warnings(replace(p, phases=tuple(phases)))
