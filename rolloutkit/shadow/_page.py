"""What the shadow_comparison page shows: `ShadowComparison`, built by `rolloutkit.shadow.compare`, with the
tables the page prints (ids, segments, categories and counts only; never an interaction's text)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from rolloutkit.memo import Headline
from rolloutkit.shadow_reviews import ALL_WEEKS, ReviewerAgreement

if TYPE_CHECKING:
    from rolloutkit.shadow import ShadowGate

_NOISE_SCHEMA = {
    "measure": pl.String,
    "kind": pl.String,
    "estimate": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "basis": pl.String,
}


@dataclass(frozen=True)
class ShadowComparison:
    """Everything the shadow_comparison page shows; empty frames and `gate = None` when the shadow table is
    missing, so the page renders and says so."""

    gate: ShadowGate | None
    headline: Headline
    agreement_weekly: pl.DataFrame
    agreement_segments: pl.DataFrame
    verdicts: pl.DataFrame
    failure_modes: pl.DataFrame
    reviewers: ReviewerAgreement | None
    ambiguous: pl.DataFrame
    wins: pl.DataFrame
    regressions: pl.DataFrame
    cost_latency: pl.DataFrame
    notes: tuple[str, ...]
    max_agent_worse_rate: float

    @property
    def title(self) -> str:
        """The banner's title: the decision in words."""
        return self.gate.title if self.gate else "Shadow comparison: no shadow data"

    @property
    def reasons(self) -> list[str]:
        return list(self.gate.reasons) if self.gate else []

    @property
    def note(self) -> str:
        return " ".join(self.notes) or "All tables present; every review carries its inclusion probability."

    def checks(self) -> pl.DataFrame:
        """The gate's checks: status, estimate, interval and threshold (the reasons are in `reasons`)."""
        return self.gate.checks_frame().drop("reason") if self.gate else pl.DataFrame()

    def verdict_table(self) -> pl.DataFrame:
        """Weighted and unweighted share of each verdict, per ISO week and over all weeks."""
        if self.verdicts.is_empty():
            return self.verdicts
        return self.verdicts.select(
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

    def failure_mode_table(self) -> pl.DataFrame:
        """Each charter failure mode: its limit, how often reviewers found it, its weighted rate."""
        if self.failure_modes.is_empty():
            return self.failure_modes
        return self.failure_modes.select(
            "failure_mode", "max_rate", "zero_tolerance", "found", "reviewed", "estimate", "lower", "upper"
        )

    def noise_floor(self) -> pl.DataFrame:
        """Reviewers' disagreement with each other beside the weighted agent_worse and unclear shares."""
        if self.reviewers is None or self.reviewers.multi_reviewed == 0:
            return pl.DataFrame(schema=_NOISE_SCHEMA)
        d = self.reviewers.disagreement
        rows = [
            (
                "reviewers disagree",
                "humans",
                d.estimate,
                d.lower,
                d.upper,
                f"{self.reviewers.multi_reviewed} multi-reviewed outputs",
            )
        ]
        overall = self.verdicts.filter(pl.col("week") == ALL_WEEKS)
        for verdict, label in (("agent_worse", "agent judged worse"), ("unclear", "judged unclear")):
            row = overall.filter(pl.col("verdict") == verdict).row(0, named=True)
            rows.append(
                (
                    label,
                    "agent",
                    row["estimate"],
                    row["lower"],
                    row["upper"],
                    f"{row['reviewed']} reviewed outputs, weighted",
                )
            )
        return pl.DataFrame(rows, schema=_NOISE_SCHEMA, orient="row")

    def reviewer_table(self) -> pl.DataFrame:
        """Kappa with its interval, raw agreement beside it, and the disagreement rate (the noise floor)."""
        r = self.reviewers.to_dict() if self.reviewers else {}
        if not r or not r["multi_reviewed"]:
            return pl.DataFrame()
        return pl.DataFrame(
            [
                {
                    "kappa": f"{r['method']}" if r["method"] else "—",
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
