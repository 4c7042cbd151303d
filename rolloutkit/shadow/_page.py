"""What the shadow_comparison page shows: `ShadowPage`, built once by `page(ws, as_of=...)`, with the tables the
page prints: segments, categories, staff names, counts and hashed references (`rolloutkit.text.reference`) —
never an interaction id or an interaction's text.

`page` never raises for a missing table: without shadow traffic (rows or `shadow_daily`) every part is a `Missing`
note, without a reviews table the review parts are (the gate then decides on time alone), and with daily counts
but no rows the lists of individual outputs are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from rolloutkit.checks import Check
from rolloutkit.errors import MissingTableError
from rolloutkit.page import Headline, Missing, missing_headline, missing_table
from rolloutkit.shadow._checks import evidence
from rolloutkit.shadow._counts import cost_latency_counts
from rolloutkit.shadow._results import ALL_WEEKS, SLUG, TITLE, Evidence, ReviewerAgreement, ShadowGate
from rolloutkit.shadow._reviews import ambiguous_items, cases
from rolloutkit.text import duration, pct, plural, usd
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
    "The shadow traffic has no agent_cost_usd, agent_latency_ms or human_handle_s column.",
    "Add them to the shadow table (or their sums to shadow_daily) to compare what the agent and a human cost per "
    "interaction and how long each takes.",
)
_NO_SECOND_REVIEW = Missing(
    "No output was reviewed by two or more people yet, so reviewers' agreement cannot be measured.",
    "Have a second reviewer judge about one sampled output in five.",
)
_COUNTS_ONLY = Missing(
    "Lists of individual outputs need the shadow rows; this workspace has only their daily counts (shadow_daily).",
    "Add the shadow rows (shadow.parquet, .csv, .ndjson or a folder shadow/) beside shadow_daily to list them; "
    "every other part of this page reads the counts.",
)
_NO_SHADOW_FIX = (
    "Add shadow.parquet, shadow.csv, shadow.ndjson or a folder shadow/ to the workspace, or its daily counts "
    "shadow_daily (`rolloutkit counts`, or the SQL of `rolloutkit sql --counts shadow_daily` run in the warehouse)."
)
_RATE_CHECKS = ("agent_worse_rate", "failure_rate", "zero_tolerance")


@dataclass(frozen=True, kw_only=True)
class ShadowPage:
    """Everything the shadow_comparison page shows, computed once. Each part is a frame or a result, or a
    `Missing` note when the table it comes from is missing. Frames named `*_table` are for reading (rates as
    percentages, dollars, durations); the others feed the charts."""

    headline: Headline
    gate: ShadowGate | Missing
    #: The decision's reasons, most important first; empty without a shadow table.
    reasons: list[str]
    #: What the reader should know about the data (imputed probabilities, reviews outside the shadow table,
    #: counts without rows).
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
    #: Outputs reviewers could not settle, the wins and the regressions: each a `reference` (never the
    #: interaction id), its week, segment, verdict and reviewers.
    ambiguous: pl.DataFrame | Missing
    wins: pl.DataFrame | Missing
    regressions: pl.DataFrame | Missing
    #: Dollars and seconds per interaction, agent and human, per ISO week and overall (for the chart).
    cost_latency: pl.DataFrame | Missing
    cost_table: pl.DataFrame | Missing
    #: Where the human's dollars come from, or that the charter does not set them.
    cost_note: str | Missing


def page(ws: Workspace, *, as_of: str | dt.date | None = None) -> ShadowPage:
    """Everything the shadow comparison page shows, as of a day (default: the last day with data)."""
    day = ws.resolve_as_of(as_of)
    ws = ws.cut(day)
    try:
        found = evidence(ws, day)
    except MissingTableError as exc:
        fix = _NO_SHADOW_FIX if exc.table == "shadow" else None
        return _missing_page(ws, missing_table(exc.table, fix=fix))
    human_cost = ws.charter.traffic.human_cost_per_interaction_usd
    cost = cost_latency_counts(found.daily, human_cost)
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
        "checks_table": _checks_table(gate.checks),
        "agreement_weekly": gate.agreement,
        "agreement_segments": found.segments,
        "max_agent_worse_rate": ws.charter.shadow.max_agent_worse_rate,
        "cost_latency": cost,
        "cost_table": cost if isinstance(cost, Missing) else _cost_table(cost),
        "cost_note": _cost_note(cost, ws.charter.traffic.human_cost_per_interaction_usd),
    }
    if found.review is None:
        missing = missing_table(
            "reviews",
            fix="Add reviews.parquet, reviews.csv or reviews.ndjson: the reviewers' verdicts on each week's "
            "sample (`rolloutkit sample` draws it).",
        )
        return ShadowPage(**shown, **dict.fromkeys(_REVIEW_PARTS, missing))
    items, reviews = found.review.items, found.review.reviews
    listed = (
        {
            "ambiguous": ambiguous_items(items, reviews),
            "wins": cases(items, reviews, "agent_better"),
            "regressions": cases(items, reviews, "agent_worse"),
        }
        if found.rows
        else dict.fromkeys(("ambiguous", "wins", "regressions"), _COUNTS_ONLY)
    )
    return ShadowPage(
        **shown,
        verdicts=gate.verdicts,
        verdict_table=_verdict_table(gate.verdicts),
        failure_modes=found.findings,
        failure_mode_table=_failure_mode_table(found.findings),
        reviewers=gate.kappa,
        noise_floor=_noise_floor(gate.kappa, gate.verdicts),
        reviewer_table=_reviewer_table(gate.kappa),
        **listed,
    )


def _missing_page(ws: Workspace, missing: Missing) -> ShadowPage:
    parts = (
        "gate",
        "checks_table",
        "agreement_weekly",
        "agreement_segments",
        "cost_latency",
        "cost_table",
        "cost_note",
        *_REVIEW_PARTS,
    )
    return ShadowPage(
        headline=missing_headline(SLUG, TITLE, missing),
        reasons=[],
        note=missing,
        max_agent_worse_rate=ws.charter.shadow.max_agent_worse_rate,
        **dict.fromkeys(parts, missing),
    )


def _pct_expr(column: str) -> pl.Expr:
    return pl.col(column).map_elements(pct, return_dtype=pl.String)


def _interval_expr(lower: str, upper: str) -> pl.Expr:
    return pl.format("{}–{}", _pct_expr(lower), _pct_expr(upper))


def _checks_table(checks: tuple[Check, ...]) -> pl.DataFrame:
    """The gate's checks for reading: the check in words, its status, what it found and its bar (rates as
    percentages, weeks and reviews as counts), and its sentence."""

    def shown(check: Check, value: float | None) -> str:
        if value is None:
            return "—"
        if check.name.partition(":")[0] in _RATE_CHECKS:
            return pct(value)
        return plural(int(value), "week") if check.name == "min_weeks" else plural(int(value), "review")

    rows = [
        {
            "check": c.label,
            "status": c.status,
            "found": shown(c, c.estimate),
            "interval": f"{shown(c, c.lower)}–{shown(c, c.upper)}" if c.lower is not None else "—",
            "threshold": shown(c, c.threshold),
            "sentence": c.sentence,
        }
        for c in checks
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(("check", "status", "found", "interval", "threshold", "sentence"),
                                                   pl.String))


def _verdict_table(verdicts: pl.DataFrame) -> pl.DataFrame:
    """Weighted and unweighted share of each verdict, per ISO week and over all weeks."""
    return verdicts.select(
        "week",
        "verdict",
        "reviewed",
        "found",
        _pct_expr("estimate").alias("weighted"),
        _interval_expr("lower", "upper").alias("weighted_interval"),
        _pct_expr("unweighted_estimate").alias("unweighted"),
        pl.col("effective_n").round(1),
    )


def _failure_mode_table(findings: pl.DataFrame) -> pl.DataFrame:
    """Each charter failure mode: how often reviewers found it (weighted, with its interval) against its limit."""
    return findings.select(
        "failure_mode",
        pl.when(pl.col("zero_tolerance"))
        .then(pl.lit("zero tolerance"))
        .otherwise(_pct_expr("max_rate"))
        .alias("limit"),
        "found",
        "reviewed",
        _pct_expr("estimate").alias("weighted"),
        _interval_expr("lower", "upper").alias("interval"),
    )


def _cost_table(cost: pl.DataFrame) -> pl.DataFrame:
    """Dollars and time per interaction, agent beside human, by ISO week and over all weeks."""
    shown = [pl.col("week"), pl.col("interactions")]
    if "agent_cost_usd" in cost.columns:
        shown += [
            pl.col("agent_cost_usd").map_elements(usd, return_dtype=pl.String).alias("agent_dollars"),
            pl.col("human_cost_usd").map_elements(usd, return_dtype=pl.String).fill_null("not set")
            .alias("human_dollars"),
        ]
    for column, name in (("agent_latency_s", "agent_latency"), ("human_handle_s", "human_handle_time")):
        if column in cost.columns:
            shown.append(pl.col(column).map_elements(duration, return_dtype=pl.String).alias(name))
    return cost.select(shown)


def _cost_note(cost: pl.DataFrame | Missing, human_cost: float | None) -> str | Missing:
    if isinstance(cost, Missing):
        return cost
    if "agent_cost_usd" not in cost.columns:
        return (
            "The shadow traffic has no agent_cost_usd, so cost cannot be compared in dollars; time per "
            "interaction is shown."
        )
    if human_cost is None:
        return Missing(
            "The charter does not set traffic.human_cost_per_interaction_usd, so only the agent's cost is in "
            "dollars and the human side is shown as handle time.",
            "Add `human_cost_per_interaction_usd` under `traffic:` in charter.yaml (what one interaction costs "
            "when a person handles it) to compare dollars per interaction.",
        )
    return (
        f"A human costs {usd(human_cost)} per interaction (the charter's traffic.human_cost_per_interaction_usd); "
        "the agent's cost is the mean of the costs it reported."
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

    def kappa(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}"

    return pl.DataFrame(
        [
            {
                "kappa": r["method"] or "—",
                "reviewers_per_output": r["raters"],
                "outputs": r["items"],
                "kappa_value": kappa(r["kappa"]),
                "kappa_interval": f"{kappa(r['lower'])}–{kappa(r['upper'])}",
                "raw_agreement": pct(r["observed_agreement"]),
                "multi_reviewed": r["multi_reviewed"],
                "disagreement": pct(r["disagreement_rate"]),
                "disagreement_interval": f"{pct(r['disagreement_lower'])}–{pct(r['disagreement_upper'])}",
            }
        ]
    )
