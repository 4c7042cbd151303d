"""The shadow gate's checks, each with its reason in plain words, and the decision they lead to.

Statuses follow the canary readiness checks: `pass`, `fail` (the agent is clearly not good enough: not_ready)
and `insufficient` (not enough evidence yet: continue_shadow, until the charter's max_weeks runs out).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from rolloutkit.shadow_reviews import ALL_WEEKS

Decision = Literal["ready_for_canary", "continue_shadow", "not_ready"]
CheckStatus = Literal["pass", "fail", "insufficient"]


@dataclass(frozen=True)
class Check:
    name: str
    status: CheckStatus
    estimate: float | None
    lower: float | None
    upper: float | None
    threshold: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "estimate": num(self.estimate),
            "lower": num(self.lower),
            "upper": num(self.upper),
            "threshold": num(self.threshold),
        }


def min_weeks(weeks: int, minimum: int) -> Check:
    ok = weeks >= minimum
    return Check(
        "min_weeks",
        "pass" if ok else "insufficient",
        weeks,
        None,
        None,
        minimum,
        f"{weeks_text(weeks)} of shadow data, {'at least' if ok else 'fewer than'} the charter's minimum of "
        f"{weeks_text(minimum)}",
    )


def reviews_per_week(items: pl.DataFrame, span: tuple, quota: int) -> Check:
    """Each complete shadow week (7 days from the first shadow day, as `weeks_in_shadow` counts them, so a
    shadow that starts mid-week is not held to a quota for a partial ISO week) needs `quota` reviewed
    interactions. The week in progress is not held to it yet."""
    complete = ((span[1] - span[0]).days + 1) // 7 if span[0] else 0
    if complete == 0:
        why = (
            "no complete week of shadow yet to count reviews in" if span[0] else "no shadow interactions yet"
        )
        return Check("reviews_per_week", "insufficient", 0, None, None, quota, why)
    week_index = (pl.col("day") - pl.lit(span[0])).dt.total_days() // 7
    counts = dict(items.group_by(week_index.alias("index")).agg(n=pl.len()).iter_rows())
    per_week = [counts.get(i, 0) for i in range(complete)]
    fewest = min(per_week)
    short = [
        f"week {i + 1} from {(span[0] + dt.timedelta(weeks=i)).isoformat()}: {n}"
        for i, n in enumerate(per_week)
        if n < quota
    ]
    if short:
        why = f"fewer than {quota} reviewed interactions in {len(short)} of {weeks_text(complete)} complete"
        return Check(
            "reviews_per_week", "insufficient", fewest, None, None, quota, f"{why} ({'; '.join(short)})"
        )
    each = "the 1 complete week" if complete == 1 else f"each of the {complete} complete weeks"
    why = f"at least {quota} reviewed interactions in {each} (fewest {fewest})"
    return Check("reviews_per_week", "pass", fewest, None, None, quota, why)


def agent_worse(verdicts: pl.DataFrame, limit: float, confidence: float) -> Check:
    row = verdicts.filter((pl.col("week") == ALL_WEEKS) & (pl.col("verdict") == "agent_worse")).row(
        0, named=True
    )
    if row["reviewed"] == 0:
        return Check("agent_worse_rate", "insufficient", None, None, None, limit, "no shadow reviews yet")
    shown = (
        f"agent worse than the human in {row['estimate']:.1%} of outputs (weighted, {row['reviewed']} "
        f"reviewed; {confidence:.0%} interval {row['lower']:.1%}–{row['upper']:.1%}) against a limit of "
        f"{limit:.1%}"
    )
    if row["upper"] <= limit:
        status, why = "pass", f"{shown}: the upper bound is within the limit"
    elif row["lower"] > limit:
        status, why = "fail", f"{shown}: clearly above the limit"
    else:
        status, why = "insufficient", f"{shown}: the upper bound is above the limit, more reviews needed"
    return Check("agent_worse_rate", status, row["estimate"], row["lower"], row["upper"], limit, why)


def failure_checks(findings: pl.DataFrame) -> list[Check]:
    checks = []
    for row in findings.iter_rows(named=True):
        mode, limit = row["failure_mode"], row["max_rate"]
        interval = (row["estimate"], row["lower"], row["upper"])
        if row["zero_tolerance"]:
            found = row["found"]
            checks.append(
                Check(
                    f"zero_tolerance:{mode}",
                    "fail" if found else "pass",
                    *interval,
                    0.0,
                    f"{mode} (zero tolerance) found in {found} reviewed interaction"
                    f"{'s' if found != 1 else ''}"
                    if found
                    else f"{mode} (zero tolerance) not found in {row['reviewed']} reviewed interactions",
                )
            )
            continue
        if row["reviewed"] == 0:
            checks.append(
                Check(
                    f"failure_rate:{mode}", "insufficient", None, None, None, limit, f"{mode}: no reviews yet"
                )
            )
            continue
        text = (
            f"{mode} found in {row['found']} of {row['reviewed']} reviewed interactions, "
            f"{row['estimate']:.1%} weighted (interval {row['lower']:.1%}–{row['upper']:.1%}) "
            f"against a limit of {limit:.1%}"
        )
        if row["lower"] > limit:
            status, why = "fail", f"{text}: clearly above the limit"
        elif row["estimate"] > limit:
            status, why = (
                "pass",
                f"{text}: above the limit in this sample, not significantly; watch it closely in the canary",
            )
        else:
            status, why = "pass", f"{text}: within the limit"
        checks.append(Check(f"failure_rate:{mode}", status, *interval, limit, why))
    return checks


def decide(checks: list[Check], weeks: int, max_weeks: int) -> tuple[Decision, tuple[str, ...]]:
    failed = [c.reason for c in checks if c.status == "fail"]
    waiting = [c.reason for c in checks if c.status == "insufficient"]
    # the agent-worse rate is the headline evidence of a pass, so it leads
    passed = [
        c.reason for c in sorted(checks, key=lambda c: c.name != "agent_worse_rate") if c.status == "pass"
    ]
    if failed:
        return "not_ready", tuple(failed + waiting + passed)
    if not waiting:
        return "ready_for_canary", tuple(passed)
    if weeks >= max_weeks:
        timeout = (
            f"{weeks_text(weeks)} in shadow reaches the charter's maximum of {weeks_text(max_weeks)} without "
            "meeting every check; fix the agent or the review process rather than extending shadow"
        )
        return "not_ready", (timeout, *waiting, *passed)
    return "continue_shadow", tuple(waiting + passed)


def weeks_text(n: int) -> str:
    return f"{n} week" if n == 1 else f"{n} weeks"


def num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int):
        return value
    return round(float(value), 6)


def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: num(v) if isinstance(v, float) else v for k, v in row.items()}
        for row in frame.iter_rows(named=True)
    ]
