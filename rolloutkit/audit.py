"""Accountable decisions: every flag change beside what the kit recommended, who made it, and whether they could.

`audit(ws)` reads the `flags` table and puts each change next to the recommendation in force when it was made:
the canary decision as of the day *before* the change (`canary.decision_history` gives one per day; a decision
is computed from a whole day's data, so it is what the team had on the morning of the change), or, for the
first step onto the ladder, the shadow gate as of that day before.

- An **expansion** (a ramp up) follows the kit only if the kit said expand (or the shadow gate said ready for
  canary, or the flag was at 0% after a rollback, where the kit's advice is to re-enter the ladder once the cause
  is fixed) and the new share is no higher than the next stage it named. Any other expansion is an override.
- A **hold through rollback days** is an override too: every day the flag stayed at its share although the kit
  said roll back at the end of the day before.
- Step-downs, rollbacks, unchanged shares and drills (the flag set to 0 with a drill-like reason and restored the
  same day, as the canary classifies them) never are: they take no more risk than any advice.
- `authorized` is false for an actor outside the charter's `rollback_authority` (the owner by default; anyone
  when neither is set).
- For each rollback, `time_to_rollback_days` counts calendar days (in the charter's time zone) from the first day
  of the run of rollback decisions that led to it to the day the flag reached 0 (`zero_at` when the flags table
  records it, else the change's `ts`): 1 = rolled back the morning after the kit first said so. It is None when
  the kit had not said roll back the day before (a precaution, an incident).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from rolloutkit import canary, shadow
from rolloutkit.errors import RolloutkitError
from rolloutkit.text import number, plural, stage
from rolloutkit.workspace import Workspace

Kind = Literal["ramp", "step_down", "rollback", "drill", "drill_restore", "same"]
#: Recommendations under which an expansion follows the kit.
GO = ("expand", "ready_for_canary", "re_enter")
#: Recommendations in words, for sentences.
WORDS = {"expand": "expand", "hold": "hold", "rollback": "roll back", "ready_for_canary": "ready for canary",
         "continue_shadow": "continue shadow", "not_ready": "not ready", "re_enter": "re-enter the ladder"}


@dataclass(frozen=True, kw_only=True)
class FlagChange:
    """One row of `flags` beside the recommendation of the day before."""

    ts: dt.datetime
    day: dt.date
    actor: str
    reason: str
    from_share: float
    to_share: float
    kind: Kind
    #: The kit's advice in force: a canary decision, a shadow gate decision, "re_enter", or None (no data).
    recommendation: str | None
    #: The day that advice was computed for (the day before the change).
    recommended_as_of: dt.date | None
    #: The advice's first reason, in plain words.
    advice: str | None
    followed: bool
    authorized: bool
    zero_at: dt.datetime | None = None
    #: For a rollback: the first day of the run of rollback decisions that led to it, and the days it took.
    condition_since: dt.date | None = None
    time_to_rollback_days: int | None = None
    #: Why the change is an override, in one plain sentence; None when it followed the kit.
    override: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ts": number(self.ts), "day": number(self.day), "actor": self.actor, "reason": self.reason,
            "from_share": self.from_share, "to_share": self.to_share, "kind": self.kind,
            "recommendation": self.recommendation, "recommended_as_of": number(self.recommended_as_of),
            "advice": self.advice, "followed": self.followed, "authorized": self.authorized,
            "zero_at": number(self.zero_at), "condition_since": number(self.condition_since),
            "time_to_rollback_days": self.time_to_rollback_days, "override": self.override,
        }


@dataclass(frozen=True, kw_only=True)
class Override:
    """An expansion against the kit's advice, or days held at a share the kit said to roll back from."""

    kind: Literal["expansion", "held_through_rollback"]
    #: The day of the expansion, or the first day held.
    day: dt.date
    #: For a hold: the last day held (the day before the rollback, or `as_of` while it goes on).
    last_day: dt.date
    days: int
    share: float
    #: The change behind it: the expansion itself, or the change that set the share that was held.
    ts: dt.datetime | None
    actor: str | None
    reason: str | None
    recommendation: str
    ongoing: bool = False
    #: For a hold that ended: the change that ended it.
    ended_by: FlagChange | None = None
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        ended = self.ended_by
        return {
            "kind": self.kind, "day": number(self.day), "last_day": number(self.last_day), "days": self.days,
            "share": self.share, "ts": number(self.ts), "actor": self.actor, "reason": self.reason,
            "recommendation": self.recommendation, "ongoing": self.ongoing,
            "ended_by": None if ended is None else {"ts": number(ended.ts), "actor": ended.actor,
                                                     "reason": ended.reason, "to_share": ended.to_share},
            "sentence": self.sentence,
        }


@dataclass(frozen=True, kw_only=True)
class Audit:
    """Every flag change up to `as_of` against the kit's advice (`rolloutkit audit --json`)."""

    agent: str
    as_of: dt.date
    changes: tuple[FlagChange, ...]
    overrides: tuple[Override, ...]
    #: Who may change the flag; empty means anyone.
    rollback_authority: tuple[str, ...]

    @property
    def rollbacks(self) -> tuple[FlagChange, ...]:
        return tuple(c for c in self.changes if c.kind == "rollback")

    @property
    def time_to_rollback_days(self) -> list[int | None]:
        """One entry per rollback, in order: calendar days from the first rollback decision to the flag at 0."""
        return [c.time_to_rollback_days for c in self.rollbacks]

    @property
    def unauthorized(self) -> tuple[FlagChange, ...]:
        return tuple(c for c in self.changes if not c.authorized)

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent, "as_of": number(self.as_of), "changes": [c.to_dict() for c in self.changes],
            "overrides": [o.to_dict() for o in self.overrides], "time_to_rollback_days": self.time_to_rollback_days,
            "rollback_authority": list(self.rollback_authority),
        }

    def describe(self) -> str:
        authority = ", ".join(self.rollback_authority) or "anyone (no owner and no rollback_authority)"
        lines = [f"{self.agent} as of {self.as_of}: {plural(len(self.changes), 'flag change')}, "
                 f"{plural(len(self.overrides), 'override')}, {len(self.unauthorized)} by someone outside the "
                 f"rollback authority", f"rollback authority: {authority}", ""]
        if self.overrides:
            lines += ["overrides:", *(f"  - {o.sentence}" for o in self.overrides), ""]
        for change in self.rollbacks:
            lines.append(f"rollback on {change.day} by {change.actor}: " + _rollback_words(change))
        if self.rollbacks:
            lines.append("")
        lines.append("flag changes:")
        for c in self.changes:
            advice = WORDS.get(c.recommendation or "", "no recommendation")
            if c.recommended_as_of:
                advice += f" (as of {c.recommended_as_of})"
            verdict = "followed" if c.followed else "OVERRIDE"
            who = c.actor if c.authorized else f"{c.actor} (NOT AUTHORIZED)"
            lines.append(f"  {c.ts:%Y-%m-%d %H:%M}  {stage(c.from_share):>4} → {stage(c.to_share):<4}  "
                         f"{c.kind:<13}  kit: {advice:<34}  {verdict:<8}  {who}: {c.reason}")
        if not self.changes:
            lines.append("  (none)")
        return "\n".join(lines)


def audit(ws: Workspace, *, as_of: dt.date | str | None = None) -> Audit:
    """Every flag change up to the end of `as_of` (None = the last day with data) against the kit's advice.

    Raises `MissingTableError` without a `flags` table.
    """
    day = ws.resolve_as_of(as_of)
    ws = ws.cut(day)
    charter = ws.charter
    table = ws.table("flags")
    zero_at = (pl.col("zero_at") if "zero_at" in table.collect_schema()
               else pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("zero_at"))
    flags = (table.filter(pl.col("day") <= day).select("ts", "traffic_share", "actor", "reason", "day", zero_at)
             .collect().sort("ts"))
    history, kinds = _history(ws, day, flags)
    advice = _Advice(ws, history)
    zone = zoneinfo.ZoneInfo(charter.timezone)
    changes: list[FlagChange] = []
    previous = 0.0
    for row, kind in zip(flags.iter_rows(named=True), kinds, strict=True):
        recommendation, on, why, allowed = advice.before(row["day"], previous)
        override = None
        if kind == "ramp":
            override = _expansion_override(row, previous, recommendation, on, why, allowed)
        since = days = None
        if kind == "rollback":
            reached = (row["zero_at"] or row["ts"]).astimezone(zone).date()
            since = advice.rollback_since(row["day"])
            days = (reached - since).days if since else None
        changes.append(FlagChange(
            ts=row["ts"], day=row["day"], actor=row["actor"], reason=row["reason"], from_share=previous,
            to_share=row["traffic_share"], kind=kind, recommendation=recommendation, recommended_as_of=on,
            advice=why, followed=override is None, authorized=charter.may_change_flag(row["actor"]),
            zero_at=row["zero_at"], condition_since=since, time_to_rollback_days=days, override=override))
        previous = row["traffic_share"]
    overrides = [_expansion(c) for c in changes if c.override] + _holds(history, changes, day)
    return Audit(agent=charter.agent, as_of=day, changes=tuple(changes),
                 overrides=tuple(sorted(overrides, key=lambda o: o.day)),
                 rollback_authority=charter.rollback_authority)


def _history(ws: Workspace, day: dt.date, flags: pl.DataFrame) -> tuple[pl.DataFrame, list[Kind]]:
    """The canary's daily decisions and the kind of each flag change (the canary's own drill rules)."""
    if not ws.has("canary"):
        kinds: list[Kind] = []
        previous = 0.0
        for share in flags["traffic_share"]:
            kinds.append("same" if share == previous else "rollback" if share == 0 else
                         "ramp" if share > previous else "step_down")
            previous = share
        return pl.DataFrame(schema={"day": pl.Date, "stage": pl.Float64, "days_at_stage": pl.Int64,
                                    "decision": pl.String, "reason": pl.String, "next_stage": pl.Float64}), kinds
    counts = canary.canary_counts(ws, as_of=day)
    return canary.decision_history(counts), counts.segments.filter(pl.col("seg") > 0).sort("seg")["kind"].to_list()


class _Advice:
    """The kit's advice for a day, read from the daily decisions (and the shadow gate before the canary)."""

    def __init__(self, ws: Workspace, history: pl.DataFrame) -> None:
        self.ws = ws
        self.stages = ws.charter.canary.stages
        self.rows = {r["day"]: r for r in history.iter_rows(named=True)} if history.height else {}

    def before(self, day: dt.date, share: float) -> tuple[str | None, dt.date | None, str | None, float | None]:
        """(recommendation, the day it is for, its reason, the highest share an expansion may go to)."""
        on = day - dt.timedelta(days=1)
        row = self.rows.get(on)
        if row is None:
            if share > 0:
                return None, None, None, None
            return self._gate(on)
        if row["stage"] == 0:
            return "re_enter", on, row["reason"], self.stages[0]
        return row["decision"], on, row["reason"], row["next_stage"] if row["decision"] == "expand" else None

    def _gate(self, on: dt.date) -> tuple[str | None, dt.date | None, str | None, float | None]:
        if not self.ws.has("shadow"):
            return None, None, None, None
        try:
            gate = shadow.gate(self.ws, as_of=on)
        except RolloutkitError:
            return None, None, None, None
        reason = gate.reasons[0] if gate.reasons else None
        return gate.decision, on, reason, self.stages[0] if gate.decision == "ready_for_canary" else None

    def rollback_since(self, day: dt.date) -> dt.date | None:
        """The first day of the unbroken run of rollback decisions ending the day before `day`."""
        since, on = None, day - dt.timedelta(days=1)
        while (row := self.rows.get(on)) is not None and row["decision"] == "rollback":
            since, on = on, on - dt.timedelta(days=1)
        return since


def _expansion_override(row: dict[str, Any], previous: float, recommendation: str | None, on: dt.date | None,
                        why: str | None, allowed: float | None) -> str | None:
    """Why a ramp is an override, or None when it followed the advice (or there was none to follow)."""
    to = row["traffic_share"]
    if recommendation is None or (recommendation in GO and allowed is not None and to <= allowed + 1e-9):
        return None
    who = f"{row['actor']} expanded {stage(previous)} → {stage(to)} on {row['day']}"
    source = "the shadow gate" if recommendation in ("ready_for_canary", "continue_shadow", "not_ready") else "the kit"
    if recommendation in GO:
        said = f", past the {stage(allowed or 0)} {source} allowed ({WORDS[recommendation]} as of {on})"
    else:
        said = f" while {source} said {WORDS.get(recommendation, recommendation)} (as of {on}: {_clause(why)})"
    return f"Override: {who}{said}. Reason given: “{row['reason']}”."


def _expansion(change: FlagChange) -> Override:
    return Override(kind="expansion", day=change.day, last_day=change.day, days=1, share=change.to_share,
                    ts=change.ts, actor=change.actor, reason=change.reason,
                    recommendation=change.recommendation or "", sentence=change.override or "")


def _holds(history: pl.DataFrame, changes: list[FlagChange], as_of: dt.date) -> list[Override]:
    """Runs of days the flag stayed at its share although the kit said roll back at the end of the day before."""
    rows = history.sort("day").to_dicts()
    by_day = {r["day"]: r for r in rows}
    held = [row["day"] for prev, row in zip(rows, rows[1:], strict=False)
            if prev["decision"] == "rollback" and row["stage"] == prev["stage"]
            and row["days_at_stage"] == prev["days_at_stage"] + 1]
    runs: list[list[dt.date]] = []
    for day in held:
        if runs and runs[-1][-1] == day - dt.timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    overrides = []
    for run in runs:
        first, last = run[0], run[-1]
        since = first - dt.timedelta(days=1)
        while (by_day.get(since - dt.timedelta(days=1)) or {}).get("decision") == "rollback":
            since -= dt.timedelta(days=1)
        share = by_day[first]["stage"]
        setter = next((c for c in reversed(changes) if c.day <= first and c.kind not in ("drill", "drill_restore")),
                      None)
        ended = next((c for c in changes if c.day == last + dt.timedelta(days=1)
                      and c.kind in ("rollback", "step_down")), None)
        ongoing = last == as_of
        span = f"{first}" if first == last else f"{first} to {last}"
        text = (f"Override: the flag stayed at {stage(share)} for {plural(len(run), 'day')} ({span}) after the kit "
                f"said roll back on {since} ({_clause(by_day[since]['reason'])})")
        if ended is not None:
            verb = "rolled back" if ended.kind == "rollback" else f"stepped down to {stage(ended.to_share)}"
            text += f"; {ended.actor} {verb} on {ended.day} (“{ended.reason}”)"
            if ended.time_to_rollback_days is not None:
                text += f", {plural(ended.time_to_rollback_days, 'day')} after the condition first held"
        elif ongoing:
            text += f"; as of {as_of} the flag is still at {stage(share)}"
        else:
            text += f"; the kit stopped saying roll back after {last} without the flag changing"
        if setter is not None:
            text += f". The {stage(share)} share was set by {setter.actor} on {setter.day} (“{setter.reason}”)"
        overrides.append(Override(
            kind="held_through_rollback", day=first, last_day=last, days=len(run), share=share,
            ts=setter.ts if setter else None, actor=setter.actor if setter else None,
            reason=setter.reason if setter else None, recommendation="rollback", ongoing=ongoing,
            ended_by=ended, sentence=text + "."))
    return overrides


def _rollback_words(change: FlagChange) -> str:
    at = f"flag at 0% at {(change.zero_at or change.ts):%Y-%m-%d %H:%M}"
    if change.time_to_rollback_days is None:
        return f"the kit had not said roll back the day before (a precaution); {at}"
    return (f"{plural(change.time_to_rollback_days, 'day')} after the kit first said roll back "
            f"({change.condition_since}); {at}")


def _clause(sentence: str | None) -> str:
    """A sentence to quote inside another: no final full stop, first letter lower-case."""
    text = (sentence or "no reason recorded").rstrip(".")
    return text[:1].lower() + text[1:]
