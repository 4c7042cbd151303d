"""The shadow phase: agent vs human on real traffic, weighted review verdicts, the human noise floor and the
gate.

`gate(ws)` decides ready_for_canary / continue_shadow / not_ready from the charter; `compare(ws)` gathers
everything the shadow_comparison notebook shows; `draw_sample(ws, week=...)` draws the week's review sample;
`regressions_to_evals(...)` turns agent_worse reviews into eval tasks; `headline(ws)` feeds the summary page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from rolloutkit import stats
from rolloutkit.memo import Headline
from rolloutkit.shadow_checks import (
    Check,
    Decision,
    agent_worse,
    decide,
    failure_checks,
    min_weeks,
    reviews_per_week,
    rows,
    weeks_text,
)
from rolloutkit.shadow_page import ShadowComparison
from rolloutkit.shadow_reviews import (
    ALL_WEEKS,
    ReviewerAgreement,
    ReviewItems,
    ambiguous_items,
    cases,
    finding_shares,
    regressions_to_evals,
    review_items,
    reviewer_agreement,
    verdict_shares,
)
from rolloutkit.shadow_sampling import draw_sample, iso_week, week_days
from rolloutkit.workspace import MissingTableError, Workspace

__all__ = [
    "Check",
    "ShadowComparison",
    "ShadowGate",
    "agreement",
    "compare",
    "cost_latency",
    "draw_sample",
    "gate",
    "headline",
    "regressions_to_evals",
    "week_days",
]

PAGE, TITLE = "shadow_comparison", "Shadow comparison"
_STATUS = {"ready_for_canary": "good", "continue_shadow": "warn", "not_ready": "bad"}
_WORDS = {
    "ready_for_canary": "Ready for canary",
    "continue_shadow": "Continue shadow",
    "not_ready": "Not ready",
}


@dataclass(frozen=True)
class ShadowGate:
    agent: str
    as_of: dt.date
    weeks_in_shadow: int
    decision: Decision
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    verdicts: pl.DataFrame = field(repr=False)
    agreement: pl.DataFrame = field(repr=False)
    kappa: ReviewerAgreement = field(repr=False)
    confidence: float = 0.95

    @property
    def status(self) -> str:
        return _STATUS[self.decision]

    @property
    def title(self) -> str:
        return _WORDS[self.decision]

    @property
    def sentence(self) -> str:
        return f"{self.title} ({weeks_text(self.weeks_in_shadow)} in shadow): {self.reasons[0]}."

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def checks_frame(self) -> pl.DataFrame:
        """The checks as a table for the page: name, status, estimate, interval, threshold and the reason."""
        return pl.DataFrame(
            [{**c.to_dict(), "reason": c.reason} for c in self.checks],
            schema={
                "name": pl.String,
                "status": pl.String,
                "estimate": pl.Float64,
                "lower": pl.Float64,
                "upper": pl.Float64,
                "threshold": pl.Float64,
                "reason": pl.String,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        overall = self.agreement.filter(pl.col("week") == ALL_WEEKS)
        return {
            "agent": self.agent,
            "as_of": self.as_of.isoformat(),
            "weeks_in_shadow": self.weeks_in_shadow,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "checks": [c.to_dict() for c in self.checks],
            "verdicts": {
                "overall": rows(self.verdicts.filter(pl.col("week") == ALL_WEEKS).drop("week")),
                "weeks": rows(self.verdicts.filter(pl.col("week") != ALL_WEEKS)),
            },
            "agreement": {
                "overall": rows(overall.drop("week"))[0] if overall.height else None,
                "weeks": rows(self.agreement.filter(pl.col("week") != ALL_WEEKS)),
            },
            "kappa": self.kappa.to_dict(),
        }

    def describe(self) -> str:
        lines = [
            f"{self.agent}: {self.title.upper()} ({self.decision}) as of {self.as_of.isoformat()}, "
            f"{weeks_text(self.weeks_in_shadow)} in shadow"
        ]
        lines += [f"  - {reason}" for reason in self.reasons]
        lines.append("checks:")
        lines += [f"  {c.status:<12} {c.name}" for c in self.checks]
        k = self.kappa
        if k.kappa is not None and k.kappa.error is None:
            lines.append(
                f"reviewers: {k.method} kappa {k.kappa.kappa:.2f} on {k.items} interactions, raw agreement "
                f"{k.kappa.observed_agreement:.0%}; disagree on {k.disagreement.estimate:.0%} of "
                f"{k.multi_reviewed} multi-reviewed"
            )
        return "\n".join(lines)


def gate(ws: Workspace, *, as_of: str | dt.date | None = None) -> ShadowGate:
    """The shadow gate as of a day (default: the last day with data). Raises MissingTableError without a
    shadow table; without reviews it decides on time alone (never ready)."""
    return _evidence(ws, ws.resolve_as_of(as_of)).gate


def headline(ws: Workspace, *, as_of: str | dt.date | None = None) -> Headline:
    """The summary page's line for the shadow phase; status `missing` without a shadow table."""
    try:
        return _evidence(ws, ws.resolve_as_of(as_of)).headline
    except MissingTableError as exc:
        return Headline(PAGE, TITLE, "missing", f"Not available: {exc}")


def compare(ws: Workspace, *, as_of: str | dt.date | None = None) -> ShadowComparison:
    """Everything the shadow comparison page shows, as of a day. Never raises for a missing table."""
    day = ws.resolve_as_of(as_of)
    try:
        return _evidence(ws, day).comparison(ws, day)
    except MissingTableError as exc:
        empty = pl.DataFrame()
        return ShadowComparison(
            None,
            Headline(PAGE, TITLE, "missing", f"Not available: {exc}"),
            empty,
            empty,
            empty,
            empty,
            None,
            empty,
            empty,
            empty,
            empty,
            (str(exc),),
            ws.charter.shadow.max_agent_worse_rate,
        )


def agreement(
    ws: Workspace, *, as_of: str | dt.date | None = None, by: Literal["week", "segment"] = "week"
) -> pl.DataFrame:
    """Share of interactions where the agent's action equals the human's, per ISO week (with an "all" row) or
    per segment (lowest agreement first), with Wilson intervals."""
    day = ws.resolve_as_of(as_of)
    return _agreement(_shadow(ws, day), by, ws.charter.canary.confidence)


def cost_latency(ws: Workspace, *, as_of: str | dt.date | None = None) -> pl.DataFrame:
    """Per ISO week: agent cost per interaction, agent latency (median, p90, seconds) and human handle time
    (median, p90, seconds), for the columns the shadow table has; empty when it has none of them."""
    return _cost_latency(_shadow(ws, ws.resolve_as_of(as_of)))


def _shadow(ws: Workspace, day: dt.date) -> pl.LazyFrame:
    return ws.table("shadow").filter(pl.col("day") <= day).with_columns(week=iso_week(pl.col("day")))


def _agreement(shadow: pl.LazyFrame, by: str, confidence: float) -> pl.DataFrame:
    return _agreement_intervals(_agreement_counts(shadow, by).collect(), by, confidence)


def _agreement_counts(shadow: pl.LazyFrame, by: str) -> pl.LazyFrame:
    same = (pl.col("agent_action") == pl.col("human_action")).cast(pl.Int64)
    return shadow.group_by(by).agg(interactions=pl.len(), agreed=same.sum()).sort(by)


def _agreement_intervals(counts: pl.DataFrame, by: str, confidence: float) -> pl.DataFrame:
    if by == "week":
        total = counts.select(
            pl.lit(ALL_WEEKS).alias("week"), pl.col("interactions").sum(), pl.col("agreed").sum()
        )
        counts = pl.concat([counts, total], how="vertical_relaxed")
    bounds = [
        stats.wilson_interval(a, n, confidence=confidence)
        for a, n in zip(counts["agreed"].to_list(), counts["interactions"].to_list(), strict=True)
    ]
    framed = counts.with_columns(
        pl.col("interactions").cast(pl.Int64),
        pl.col("agreed").cast(pl.Int64),
        agreement=pl.Series([b.estimate for b in bounds], dtype=pl.Float64),
        lower=pl.Series([b.lower for b in bounds], dtype=pl.Float64),
        upper=pl.Series([b.upper for b in bounds], dtype=pl.Float64),
    )
    return framed.sort("agreement", by) if by == "segment" else framed


def _cost_latency(shadow: pl.LazyFrame) -> pl.DataFrame:
    names = shadow.collect_schema().names()
    measures = []
    if "agent_cost_usd" in names:
        measures.append(pl.col("agent_cost_usd").mean().alias("agent_cost_usd_mean"))
    if "agent_latency_ms" in names:
        seconds = pl.col("agent_latency_ms") / 1000
        measures += [
            seconds.median().alias("agent_latency_s_median"),
            seconds.quantile(0.9).alias("agent_latency_s_p90"),
        ]
    if "human_handle_s" in names:
        measures += [
            pl.col("human_handle_s").median().alias("human_handle_s_median"),
            pl.col("human_handle_s").quantile(0.9).alias("human_handle_s_p90"),
        ]
    if not measures:
        return pl.DataFrame()
    return shadow.group_by("week").agg(pl.len().alias("interactions"), *measures).sort("week").collect()


@dataclass(frozen=True)
class _Evidence:
    gate: ShadowGate
    review: ReviewItems | None
    segments: pl.DataFrame
    findings: pl.DataFrame
    notes: tuple[str, ...]

    @property
    def headline(self) -> Headline:
        return Headline(
            PAGE, TITLE, self.gate.status, self.gate.sentence, self.gate.decision, self.gate.to_dict()
        )

    def comparison(self, ws: Workspace, day: dt.date) -> ShadowComparison:
        items = self.review.items if self.review else _empty_items()
        reviews = (
            self.review.reviews
            if self.review
            else pl.DataFrame(schema={"interaction_id": pl.String, "verdict": pl.String})
        )
        return ShadowComparison(
            gate=self.gate,
            headline=self.headline,
            agreement_weekly=self.gate.agreement,
            agreement_segments=self.segments,
            verdicts=self.gate.verdicts,
            failure_modes=self.findings,
            reviewers=self.gate.kappa,
            ambiguous=ambiguous_items(items, reviews),
            wins=cases(items, "agent_better"),
            regressions=cases(items, "agent_worse"),
            cost_latency=_cost_latency(_shadow(ws, day)),
            notes=self.notes,
            max_agent_worse_rate=ws.charter.shadow.max_agent_worse_rate,
        )


def _empty_items() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "interaction_id": pl.String,
            "day": pl.Date,
            "week": pl.String,
            "segment": pl.String,
            "reviewers": pl.Int64,
            "inclusion_prob": pl.Float64,
            "failure_modes": pl.List(pl.String),
            "verdict": pl.String,
            "reviewers_agree": pl.Boolean,
        }
    )


def _evidence(ws: Workspace, day: dt.date) -> _Evidence:
    charter, policy = ws.charter, ws.charter.shadow
    confidence = charter.canary.confidence
    shadow = _shadow(ws, day)
    span_frame, weekly, segments = pl.collect_all(
        [
            shadow.select(pl.col("day").min().alias("first"), pl.col("day").max().alias("last")),
            _agreement_counts(shadow, "week"),
            _agreement_counts(shadow, "segment"),
        ]
    )
    span = span_frame.row(0)
    weeks_in_shadow = ((span[1] - span[0]).days + 1) // 7 if span[0] else 0
    notes: list[str] = []
    review = None
    if ws.has("reviews"):
        review = review_items(
            ws.table("reviews"), shadow.select("interaction_id", "day", "segment"), as_of=day
        )
        if review.imputed:
            notes.append(
                f"{review.imputed} reviewed interactions have no inclusion_prob; each is counted with "
                "probability 1 (weight 1), i.e. as if that review sample had been a census."
            )
        if review.orphans:
            notes.append(
                f"{review.orphans} reviewed interactions are not in the shadow table; they are counted in "
                "the week they were reviewed."
            )
    else:
        notes.append(
            "No reviews table: verdicts, failure modes and reviewer agreement cannot be computed yet."
        )
    items = review.items if review else _empty_items()
    verdicts = verdict_shares(items, confidence=confidence)
    findings = finding_shares(items, charter, confidence=confidence)
    kappa = reviewer_agreement(
        review.reviews
        if review
        else pl.DataFrame(
            schema={
                "interaction_id": pl.String,
                "verdict": pl.String,
                "reviewed_at": pl.Datetime("us", "UTC"),
                "reviewer": pl.String,
            }
        ),
        confidence=confidence,
    )
    checks = [
        min_weeks(weeks_in_shadow, policy.min_weeks),
        reviews_per_week(items, span, policy.reviews_per_week),
        agent_worse(verdicts, policy.max_agent_worse_rate, confidence),
        *failure_checks(findings),
    ]
    decision, reasons = decide(checks, weeks_in_shadow, policy.max_weeks)
    result = ShadowGate(
        charter.agent,
        day,
        weeks_in_shadow,
        decision,
        reasons,
        tuple(checks),
        verdicts,
        _agreement_intervals(weekly, "week", confidence),
        kappa,
        confidence,
    )
    return _Evidence(
        result, review, _agreement_intervals(segments, "segment", confidence), findings, tuple(notes)
    )
