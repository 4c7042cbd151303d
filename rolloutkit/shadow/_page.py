"""What the shadow_comparison page shows: `ShadowPage`, built once by `page(ws, as_of=...)`, with the tables the
page prints (ids, segments, categories and counts only; never an interaction's text).

`page` never raises for a missing table: without a shadow table every part is a `Missing` note, and without a
reviews table the review parts are (the gate then decides on time alone).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from rolloutkit.checks import table as checks_table
from rolloutkit.errors import MissingTableError
from rolloutkit.page import Headline, Missing, missing_headline, missing_table
from rolloutkit.shadow._checks import evidence
from rolloutkit.shadow._counts import cost_latency_counts, shadow_rows
from rolloutkit.shadow._results import ALL_WEEKS, SLUG, TITLE, Evidence, ReviewerAgreement, ShadowGate
from rolloutkit.shadow._reviews import ambiguous_items, cases
from rolloutkit.workspace import Workspace

_NOISE_SCHEMA = {
    "measure": pl.String,
    "kind": pl.String,
    "estimate": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "basis": pl.String,
}
#: The page's parts that come from the reviews table.
_REVIEW_PARTS = (
    "verdicts",
    "verdict_table",
    "failure_modes",
    "failure_mode_table",
    "reviewers",
    "noise_floor",
    "reviewer_table",
    "ambiguous",
    "wins",
    "regressions",
)
_NO_COST = Missing(
    "The shadow table has no agent_cost_usd, agent_latency_ms or human_handle_s column.",
    "Add them to the shadow table to compare the agent's cost and speed with the human's handle time.",
)
_NO_SECOND_REVIEW = Missing(
    "No output was reviewed by two or more people yet, so reviewers' agreement cannot be measured.",
    "Have a second reviewer judge about one sampled output in five.",
)


@dataclass(frozen=True, kw_only=True)
class ShadowPage:
    """Everything the shadow_comparison page shows, computed once. Each part is a frame or a result, or a
    `Missing` note when the table it comes from is missing."""

    headline: Headline
    gate: ShadowGate | Missing
    #: The decision's reasons, most important first; empty without a shadow table.
    reasons: list[str]
    #: What the reader should know about the data (imputed probabilities, reviews outside the shadow table).
    note: str | Missing
    checks_table: pl.DataFrame | Missing
    agreement_weekly: pl.DataFrame | Missing
    agreement_segments: pl.DataFrame | Missing
    #: Weighted and unweighted share of each verdict per ISO week and over all weeks (for the charts).
    verdicts: pl.DataFrame | Missing
    #: The same shares as a table for the page.
    verdict_table: pl.DataFrame | Missing
    max_agent_worse_rate: float
    failure_modes: pl.DataFrame | Missing
    failure_mode_table: pl.DataFrame | Missing
    reviewers: ReviewerAgreement | Missing
    #: Reviewers' disagreement with each other beside the weighted agent_worse and unclear shares.
    noise_floor: pl.DataFrame | Missing
    reviewer_table: pl.DataFrame | Missing
    ambiguous: pl.DataFrame | Missing
    wins: pl.DataFrame | Missing
    regressions: pl.DataFrame | Missing
    cost_latency: pl.DataFrame | Missing


def page(ws: Workspace, *, as_of: str | dt.date | None = None) -> ShadowPage:
    """Everything the shadow comparison page shows, as of a day (default: the last day with data)."""
    day = ws.resolve_as_of(as_of)
    try:
        found = evidence(ws, day)
    except MissingTableError as exc:
        return _missing_page(ws, missing_table(exc.table))
    cost = cost_latency_counts(shadow_rows(ws, day))
    return _page(ws, found, cost if not cost.is_empty() else _NO_COST)


def _page(ws: Workspace, found: Evidence, cost: pl.DataFrame | Missing) -> ShadowPage:
    gate = found.gate
    headline = Headline(
        page=SLUG,
        title=TITLE,
        status=gate.status,
        sentence=gate.sentence,
        decision=gate.decision,
        heading=gate.title,
        details=gate.to_dict(),
    )
    shown = {
        "headline": headline,
        "gate": gate,
        "reasons": list(gate.reasons),
        "note": " ".join(found.notes) or "All tables present; every review carries its inclusion probability.",
        "checks_table": checks_table(gate.checks),
        "agreement_weekly": gate.agreement,
        "agreement_segments": found.segments,
        "max_agent_worse_rate": ws.charter.shadow.max_agent_worse_rate,
        "cost_latency": cost,
    }
    if found.review is None:
        missing = missing_table(
            "reviews",
            fix="Add reviews.parquet, reviews.csv or reviews.ndjson: the reviewers' verdicts on each week's "
            "sample (`rolloutkit sample` draws it).",
        )
        return ShadowPage(**shown, **dict.fromkeys(_REVIEW_PARTS, missing))
    items, reviews = found.review.items, found.review.reviews
    return ShadowPage(
        **shown,
        verdicts=gate.verdicts,
        verdict_table=_verdict_table(gate.verdicts),
        failure_modes=found.findings,
        failure_mode_table=found.findings.select(
            "failure_mode", "max_rate", "zero_tolerance", "found", "reviewed", "estimate", "lower", "upper"
        ),
        reviewers=gate.kappa,
        noise_floor=_noise_floor(gate.kappa, gate.verdicts),
        reviewer_table=_reviewer_table(gate.kappa),
        ambiguous=ambiguous_items(items, reviews),
        wins=cases(items, "agent_better"),
        regressions=cases(items, "agent_worse"),
    )


def _missing_page(ws: Workspace, missing: Missing) -> ShadowPage:
    parts = ("gate", "checks_table", "agreement_weekly", "agreement_segments", "cost_latency", *_REVIEW_PARTS)
    return ShadowPage(
        headline=missing_headline(SLUG, TITLE, missing),
        reasons=[],
        note=missing,
        max_agent_worse_rate=ws.charter.shadow.max_agent_worse_rate,
        **dict.fromkeys(parts, missing),
    )


def _verdict_table(verdicts: pl.DataFrame) -> pl.DataFrame:
    """Weighted and unweighted share of each verdict, per ISO week and over all weeks."""
    return verdicts.select(
        "week",
        "verdict",
        "reviewed",
        "found",
        pl.col("estimate").alias("weighted"),
        pl.col("lower").alias("weighted_lower"),
        pl.col("upper").alias("weighted_upper"),
        pl.col("unweighted_estimate").alias("unweighted"),
        "effective_n",
    )


def _noise_floor(reviewers: ReviewerAgreement, verdicts: pl.DataFrame) -> pl.DataFrame:
    """Reviewers' disagreement with each other beside the weighted agent_worse and unclear shares; empty when
    no output was reviewed twice (the chart then says so)."""
    if reviewers.multi_reviewed == 0:
        return pl.DataFrame(schema=_NOISE_SCHEMA)
    d = reviewers.disagreement
    rows = [
        ("reviewers disagree", "humans", d.estimate, d.lower, d.upper,
         f"{reviewers.multi_reviewed} multi-reviewed outputs"),
    ]
    overall = verdicts.filter(pl.col("week") == ALL_WEEKS)
    for verdict, label in (("agent_worse", "agent judged worse"), ("unclear", "judged unclear")):
        row = overall.filter(pl.col("verdict") == verdict).row(0, named=True)
        rows.append((label, "agent", row["estimate"], row["lower"], row["upper"],
                     f"{row['reviewed']} reviewed outputs, weighted"))
    return pl.DataFrame(rows, schema=_NOISE_SCHEMA, orient="row")


def _reviewer_table(reviewers: ReviewerAgreement) -> pl.DataFrame | Missing:
    """Kappa with its interval, raw agreement beside it, and the disagreement rate (the noise floor)."""
    if not reviewers.multi_reviewed:
        return _NO_SECOND_REVIEW
    r = reviewers.to_dict()
    return pl.DataFrame(
        [
            {
                "kappa": r["method"] or "—",
                "reviewers_per_output": r["raters"],
                "outputs": r["items"],
                "kappa_value": r["kappa"],
                "kappa_lower": r["lower"],
                "kappa_upper": r["upper"],
                "raw_agreement": r["observed_agreement"],
                "multi_reviewed": r["multi_reviewed"],
                "disagreement_rate": r["disagreement_rate"],
                "disagreement_lower": r["disagreement_lower"],
                "disagreement_upper": r["disagreement_upper"],
            }
        ]
    )
