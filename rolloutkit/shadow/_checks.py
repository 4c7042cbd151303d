"""The shadow gate: its checks, each with one plain sentence, the decision they lead to, and `gate(ws)`, which
gathers the evidence they are computed from.

Statuses follow the canary readiness checks: `pass`, `fail` (the agent is clearly not good enough: not_ready)
and `insufficient` (not enough evidence yet: continue_shadow, until the charter's max_weeks runs out).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit.checks import Check
from rolloutkit.shadow._counts import (
    agreement_counts,
    agreement_intervals,
    complete_weeks,
    daily_counts,
    shadow_rows,
    span,
)
from rolloutkit.shadow._results import ALL_WEEKS, Decision, Evidence, ShadowGate
from rolloutkit.shadow._reviews import (
    ITEMS_SCHEMA,
    REVIEWS_SCHEMA,
    finding_shares,
    review_items,
    reviewer_agreement,
    verdict_shares,
)
from rolloutkit.text import pct, plural
from rolloutkit.workspace import Workspace


def gate(ws: Workspace, *, as_of: str | dt.date | None = None) -> ShadowGate:
    """The shadow gate as of a day (default: the last day with data). Raises MissingTableError without a
    shadow table; without reviews it decides on time alone (never ready)."""
    day = ws.resolve_as_of(as_of)
    return evidence(ws.cut(day), day).gate


def evidence(ws: Workspace, day: dt.date) -> Evidence:
    """Everything the gate is decided from as of `day`: the shadow's daily counts (`daily_counts`, from rows or
    from `shadow_daily`) and the reviews, placed on their interaction's day by the shadow rows where there are
    any, else on the day they were reviewed."""
    charter, policy = ws.charter, ws.charter.shadow
    confidence = charter.canary.confidence
    daily = daily_counts(ws, as_of=day)
    first, last = span(daily)
    weeks_in_shadow = complete_weeks(first, last)
    rows = shadow_rows(ws, day) if ws.has("shadow") else None
    notes = _count_notes(ws, rows, last)
    review = None
    if ws.has("reviews"):
        placed = rows.select("interaction_id", "day", "segment") if rows is not None else None
        review = review_items(ws.table("reviews"), placed, as_of=day)
        if review.imputed:
            notes.append(
                f"{review.imputed} reviewed interactions have no inclusion_prob; each is counted with "
                "probability 1 (weight 1), i.e. as if that review sample had been a census."
            )
        if review.orphans and rows is not None:
            notes.append(
                f"{review.orphans} reviewed interactions are not in the shadow table; they are counted in "
                "the week they were reviewed."
            )
    else:
        notes.append("No reviews table: verdicts, failure modes and reviewer agreement cannot be computed yet.")
    items = review.items if review else pl.DataFrame(schema=ITEMS_SCHEMA)
    verdicts = verdict_shares(items, confidence=confidence)
    findings = finding_shares(items, charter, confidence=confidence)
    kappa = reviewer_agreement(
        review.reviews if review else pl.DataFrame(schema=REVIEWS_SCHEMA), confidence=confidence
    )
    checks = [
        min_weeks(weeks_in_shadow, policy.min_weeks),
        reviews_per_week(items, (first, last), policy.reviews_per_week),
        agent_worse(verdicts, policy.max_agent_worse_rate, confidence),
        *failure_checks(findings),
    ]
    decision, reasons = decide(checks, weeks_in_shadow, policy.max_weeks)
    result = ShadowGate(
        agent=charter.agent,
        as_of=day,
        weeks_in_shadow=weeks_in_shadow,
        decision=decision,
        reasons=reasons,
        checks=tuple(checks),
        verdicts=verdicts,
        agreement=agreement_intervals(agreement_counts(daily, "week"), "week", confidence),
        kappa=kappa,
        confidence=confidence,
    )
    return Evidence(
        gate=result,
        review=review,
        rows=rows is not None,
        daily=daily,
        segments=agreement_intervals(agreement_counts(daily, "segment"), "segment", confidence),
        findings=findings,
        notes=tuple(notes),
    )


def _count_notes(ws: Workspace, rows: pl.LazyFrame | None, last: dt.date | None) -> list[str]:
    """What the reader should know when the shadow comes as daily counts: without rows, where reviews are
    counted; beside rows, whether the counts are behind them."""
    if not ws.has("shadow_daily"):
        return []
    if rows is None:
        return [
            "The shadow comes as daily counts (shadow_daily) without its rows: agreement, weeks and cost are "
            "computed from the counts, each review is counted in the week it was reviewed, and the lists of "
            "individual outputs need the rows."
        ]
    rows_last = rows.select(pl.col("day").max()).collect().item()
    if rows_last is not None and (last is None or rows_last > last):
        counted = f"end on {last.isoformat()}" if last else "are empty"
        return [
            f"The shadow's daily counts (shadow_daily) {counted} but its rows run to {rows_last.isoformat()}; "
            "agreement, weeks and cost come from the counts: run `rolloutkit counts` on the workspace again."
        ]
    return []


def min_weeks(weeks: int, minimum: int) -> Check:
    ok = weeks >= minimum
    return Check(
        name="min_weeks",
        status="pass" if ok else "insufficient",
        estimate=weeks,
        threshold=minimum,
        sentence=f"{plural(weeks, 'week')} of shadow data, {'at least' if ok else 'fewer than'} the charter's "
        f"minimum of {plural(minimum, 'week')}",
    )


def reviews_per_week(items: pl.DataFrame, span: tuple[dt.date | None, dt.date | None], quota: int) -> Check:
    """Each complete shadow week (7 days from the first shadow day, as `weeks_in_shadow` counts them, so a
    shadow that starts mid-week is not held to a quota for a partial ISO week) needs `quota` reviewed
    interactions. The week in progress is not held to it yet."""
    first, last = span
    complete = complete_weeks(first, last)
    if complete == 0:
        why = "no complete week of shadow yet to count reviews in" if first else "no shadow interactions yet"
        return Check(name="reviews_per_week", status="insufficient", estimate=0, threshold=quota, sentence=why)
    week_index = (pl.col("day") - pl.lit(first)).dt.total_days() // 7
    counts = dict(items.group_by(week_index.alias("index")).agg(n=pl.len()).iter_rows())
    per_week = [counts.get(i, 0) for i in range(complete)]
    fewest = min(per_week)
    short = [
        f"week {i + 1} from {(first + dt.timedelta(weeks=i)).isoformat()}: {n}"
        for i, n in enumerate(per_week)
        if n < quota
    ]
    if short:
        why = f"fewer than {quota} reviewed interactions in {len(short)} of {plural(complete, 'week')} complete"
        return Check(
            name="reviews_per_week",
            status="insufficient",
            estimate=fewest,
            threshold=quota,
            sentence=f"{why} ({'; '.join(short)})",
        )
    each = "the 1 complete week" if complete == 1 else f"each of the {complete} complete weeks"
    return Check(
        name="reviews_per_week",
        status="pass",
        estimate=fewest,
        threshold=quota,
        sentence=f"at least {quota} reviewed interactions in {each} (fewest {fewest})",
    )


def agent_worse(verdicts: pl.DataFrame, limit: float, confidence: float) -> Check:
    row = verdicts.filter((pl.col("week") == ALL_WEEKS) & (pl.col("verdict") == "agent_worse")).row(0, named=True)
    if row["reviewed"] == 0:
        return Check(name="agent_worse_rate", status="insufficient", threshold=limit, sentence="no shadow reviews yet")
    shown = (
        f"agent worse than the human in {pct(row['estimate'])} of outputs (weighted, {row['reviewed']} "
        f"reviewed; {pct(confidence)} interval {pct(row['lower'])}–{pct(row['upper'])}) against a limit of "
        f"{pct(limit)}"
    )
    if row["upper"] <= limit:
        status, why = "pass", f"{shown}: the upper bound is within the limit"
    elif row["lower"] > limit:
        status, why = "fail", f"{shown}: clearly above the limit"
    else:
        status, why = "insufficient", f"{shown}: the upper bound is above the limit, more reviews needed"
    return Check(
        name="agent_worse_rate",
        status=status,
        estimate=row["estimate"],
        lower=row["lower"],
        upper=row["upper"],
        threshold=limit,
        sentence=why,
    )


def failure_checks(findings: pl.DataFrame) -> list[Check]:
    checks = []
    for row in findings.iter_rows(named=True):
        mode, limit = row["failure_mode"], row["max_rate"]
        interval = {"estimate": row["estimate"], "lower": row["lower"], "upper": row["upper"]}
        if row["zero_tolerance"]:
            found = row["found"]
            why = (
                f"{mode} (zero tolerance) found in {plural(found, 'reviewed interaction')}"
                if found
                else f"{mode} (zero tolerance) not found in {row['reviewed']} reviewed interactions"
            )
            checks.append(
                Check(
                    name=f"zero_tolerance:{mode}",
                    status="fail" if found else "pass",
                    **interval,
                    threshold=0.0,
                    sentence=why,
                )
            )
            continue
        if row["reviewed"] == 0:
            checks.append(
                Check(
                    name=f"failure_rate:{mode}",
                    status="insufficient",
                    threshold=limit,
                    sentence=f"{mode}: no reviews yet",
                )
            )
            continue
        text = (
            f"{mode} found in {row['found']} of {row['reviewed']} reviewed interactions, "
            f"{pct(row['estimate'])} weighted (interval {pct(row['lower'])}–{pct(row['upper'])}) "
            f"against a limit of {pct(limit)}"
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
        checks.append(Check(name=f"failure_rate:{mode}", status=status, **interval, threshold=limit, sentence=why))
    return checks


def decide(checks: list[Check], weeks: int, max_weeks: int) -> tuple[Decision, tuple[str, ...]]:
    failed = [c.sentence for c in checks if c.status == "fail"]
    waiting = [c.sentence for c in checks if c.status == "insufficient"]
    # the agent-worse rate is the headline evidence of a pass, so it leads
    passed = [
        c.sentence for c in sorted(checks, key=lambda c: c.name != "agent_worse_rate") if c.status == "pass"
    ]
    if failed:
        return "not_ready", tuple(failed + waiting + passed)
    if not waiting:
        return "ready_for_canary", tuple(passed)
    if weeks >= max_weeks:
        timeout = (
            f"{plural(weeks, 'week')} in shadow reaches the charter's maximum of {plural(max_weeks, 'week')} "
            "without meeting every check; fix the agent or the review process rather than extending shadow"
        )
        return "not_ready", (timeout, *waiting, *passed)
    return "continue_shadow", tuple(waiting + passed)
