"""Shadow reviews: one verdict per reviewed interaction, weighted verdict shares, failure modes found in
review, agreement between reviewers (the human noise floor) and the eval cases that shadow regressions become.

An interaction reviewed by several people gets the verdict a strict majority of them gave; a tie is `unclear`
(the reviewers disagree). Weights are 1 / `inclusion_prob` from the review sample; a missing probability
counts as 1 (the review is taken as if every interaction had been reviewed) and `ReviewItems.imputed` says how
many.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from rolloutkit import stats
from rolloutkit.charter import Charter
from rolloutkit.contracts import VERDICTS
from rolloutkit.errors import RolloutkitError
from rolloutkit.shadow._results import ALL_WEEKS, NOT_IN_SHADOW, ReviewerAgreement, ReviewItems
from rolloutkit.text import iso_week_expr, reference_expr

_SHARE_SCHEMA = {
    "week": pl.String,
    "verdict": pl.String,
    "reviewed": pl.Int64,
    "found": pl.Int64,
    "estimate": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "effective_n": pl.Float64,
    "unweighted_estimate": pl.Float64,
    "unweighted_lower": pl.Float64,
    "unweighted_upper": pl.Float64,
}
#: `ReviewItems.items` and `.reviews` of a workspace without reviews.
ITEMS_SCHEMA = {
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
REVIEWS_SCHEMA = {
    "interaction_id": pl.String,
    "verdict": pl.String,
    "reviewed_at": pl.Datetime("us", "UTC"),
    "reviewer": pl.String,
}


def shadow_reviews(reviews: pl.LazyFrame) -> pl.LazyFrame:
    """The shadow phase's reviews: `phase` null or "shadow" (supervision reviews belong to supervision)."""
    if "phase" not in reviews.collect_schema().names():
        return reviews
    return reviews.filter(pl.col("phase").is_null() | (pl.col("phase") == "shadow"))


def review_items(reviews: pl.LazyFrame, shadow: pl.LazyFrame | None, *, as_of: dt.date) -> ReviewItems:
    """Resolve reviews up to `as_of` to one verdict per interaction, with its week, segment and weight.

    `shadow` (interaction_id, `day`, `week`, `segment`) places each interaction on the day it happened; an
    interaction not in it is kept under its review's day and the segment "(not in shadow table)".
    """
    names = reviews.collect_schema().names()
    prob = pl.col("inclusion_prob") if "inclusion_prob" in names else pl.lit(None, pl.Float64)
    rows = (
        shadow_reviews(reviews)
        .filter(pl.col("day") <= as_of)
        .select(
            "interaction_id",
            "reviewer",
            "reviewed_at",
            "verdict",
            "failure_mode",
            prob.alias("inclusion_prob"),
            pl.col("day").alias("review_day"),
        )
    )
    if shadow is None:
        shadow = pl.LazyFrame(schema={"interaction_id": pl.String, "day": pl.Date, "segment": pl.String})
    placed = rows.join(shadow.select("interaction_id", "day", "segment"), on="interaction_id", how="left")
    placed = (
        placed.with_columns(
            in_shadow=pl.col("day").is_not_null(),
            day=pl.coalesce("day", "review_day"),
            segment=pl.col("segment").fill_null(NOT_IN_SHADOW),
        )
        .with_columns(week=iso_week_expr(pl.col("day")))
        .drop("review_day")
    )
    per_verdict = placed.group_by("interaction_id", "verdict").agg(votes=pl.len())
    top = per_verdict.group_by("interaction_id").agg(
        leaders=pl.col("verdict").filter(pl.col("votes") == pl.col("votes").max()), distinct_verdicts=pl.len()
    )
    items = (
        placed.group_by("interaction_id")
        .agg(
            pl.col("day").first(),
            pl.col("week").first(),
            pl.col("segment").first(),
            pl.col("in_shadow").first(),
            reviewers=pl.len(),
            prob_missing=pl.col("inclusion_prob").is_null().all(),
            inclusion_prob=pl.col("inclusion_prob").max().fill_null(1.0),
            failure_modes=pl.col("failure_mode").drop_nulls().unique().sort(),
        )
        .join(top, on="interaction_id", how="left")
        .with_columns(
            verdict=pl.when(pl.col("leaders").list.len() == 1)
            .then(pl.col("leaders").list.first())
            .otherwise(pl.lit("unclear")),
            reviewers_agree=pl.col("distinct_verdicts") == 1,
        )
        .drop("leaders", "distinct_verdicts")
        .sort("week", "interaction_id")
    )
    items_df, reviews_df = pl.collect_all([items, placed.sort("interaction_id", "reviewed_at", "reviewer")])
    imputed = int(items_df["prob_missing"].sum())
    orphans = int((~items_df["in_shadow"]).sum())
    return ReviewItems(
        items=items_df.drop("prob_missing", "in_shadow"), reviews=reviews_df, imputed=imputed, orphans=orphans
    )


def verdict_shares(items: pl.DataFrame, *, confidence: float = 0.95) -> pl.DataFrame:
    """Share of each verdict per ISO week and over all weeks (week = "all"), weighted and unweighted.

    Weighted: Hájek estimate with 1 / inclusion_prob weights and a design-based interval
    (`stats.weighted_proportion`, strata = weeks for the overall row). Unweighted: the plain share with a
    Wilson interval, shown beside it to make the effect of oversampling visible.
    """
    rows = []
    groups = [(week, part) for (week,), part in items.group_by("week", maintain_order=True)]
    for week, part in [*groups, (ALL_WEEKS, items)]:
        strata = part["week"].to_numpy() if week == ALL_WEEKS else None
        for verdict in VERDICTS:
            rows.append(_share_row(week, verdict, part["verdict"] == verdict, part, confidence, strata))
    return pl.DataFrame(rows, schema=_SHARE_SCHEMA)


def finding_shares(items: pl.DataFrame, charter: Charter, *, confidence: float = 0.95) -> pl.DataFrame:
    """Each charter failure mode: reviewed interactions where any reviewer found it, weighted share over all
    weeks, and the charter's limit."""
    rows = []
    strata = items["week"].to_numpy()
    for mode in charter.failure_modes:
        found = items["failure_modes"].list.contains(mode.name)
        row = _share_row(ALL_WEEKS, mode.name, found, items, confidence, strata)
        rows.append(
            {
                "failure_mode": mode.name,
                "max_rate": mode.max_rate,
                "zero_tolerance": mode.zero_tolerance,
                **{k: v for k, v in row.items() if k not in ("week", "verdict")},
            }
        )
    schema = {
        "failure_mode": pl.String,
        "max_rate": pl.Float64,
        "zero_tolerance": pl.Boolean,
        **{k: v for k, v in _SHARE_SCHEMA.items() if k not in ("week", "verdict")},
    }
    return pl.DataFrame(rows, schema=schema)


def _share_row(
    week: str, name: str, hit: pl.Series, part: pl.DataFrame, confidence: float, strata: np.ndarray | None
) -> dict[str, Any]:
    indicator = hit.fill_null(False).to_numpy().astype(float)
    weighted = stats.weighted_proportion(
        indicator, part["inclusion_prob"].to_numpy(), confidence=confidence, strata=strata
    )
    found = int(indicator.sum())
    plain = stats.wilson_interval(found, part.height, confidence=confidence)
    return {
        "week": week,
        "verdict": name,
        "reviewed": part.height,
        "found": found,
        "estimate": weighted.estimate,
        "lower": weighted.lower,
        "upper": weighted.upper,
        "effective_n": weighted.effective_n,
        "unweighted_estimate": plain.estimate,
        "unweighted_lower": plain.lower,
        "unweighted_upper": plain.upper,
    }


def reviewer_agreement(reviews: pl.DataFrame, *, confidence: float = 0.95) -> ReviewerAgreement:
    """Kappa and raw agreement over interactions with two or more reviewers.

    When the most common number of reviewers per such interaction is two, Cohen's kappa on those interactions
    (rater 1 = the earlier review); otherwise Fleiss' kappa on the interactions with that number of reviewers.
    The disagreement rate (reviewers not unanimous) covers every multi-reviewed interaction, with a Wilson
    interval.
    """
    per_item = (
        reviews.group_by("interaction_id")
        .agg(raters=pl.len(), unanimous=pl.col("verdict").n_unique() == 1)
        .filter(pl.col("raters") >= 2)
    )
    multi = per_item.height
    split = int((~per_item["unanimous"]).sum()) if multi else 0
    disagreement = stats.wilson_interval(split, multi, confidence=confidence)
    if multi == 0:
        return ReviewerAgreement(
            method=None, items=0, raters=0, multi_reviewed=0, kappa=None, disagreement=disagreement
        )
    raters = (
        per_item.group_by("raters")
        .agg(items=pl.len())
        .sort(["items", "raters"], descending=True)["raters"][0]
    )
    chosen = reviews.join(
        per_item.filter(pl.col("raters") == raters).select("interaction_id"), on="interaction_id", how="semi"
    )
    index = {v: i for i, v in enumerate(VERDICTS)}
    codes = chosen.with_columns(code=pl.col("verdict").replace_strict(index, return_dtype=pl.Int64))
    if raters == 2:
        pairs = (
            codes.sort("interaction_id", "reviewed_at", "reviewer")
            .group_by("interaction_id", maintain_order=True)
            .agg(first=pl.col("code").first(), second=pl.col("code").last())
        )
        table = np.zeros((len(VERDICTS), len(VERDICTS)))
        np.add.at(table, (pairs["first"].to_numpy(), pairs["second"].to_numpy()), 1)
        kappa, method = stats.cohen_kappa(table, confidence=confidence), "cohen"
    else:
        counts = codes.group_by("interaction_id", "code").agg(n=pl.len())
        item_index = counts["interaction_id"].rank("dense").cast(pl.Int64).to_numpy() - 1
        table = np.zeros((int(item_index.max()) + 1, len(VERDICTS)))
        table[item_index, counts["code"].to_numpy()] = counts["n"].to_numpy()
        kappa, method = stats.fleiss_kappa(table, confidence=confidence), "fleiss"
    items = chosen["interaction_id"].n_unique()
    return ReviewerAgreement(
        method=method, items=items, raters=int(raters), multi_reviewed=multi, kappa=kappa, disagreement=disagreement
    )


def ambiguous_items(items: pl.DataFrame, reviews: pl.DataFrame) -> pl.DataFrame:
    """Interactions whose reviewers disagree or that were judged unclear: a reference instead of the id, week,
    segment, the verdict, the verdicts given and who reviewed (staff names and categories only, never an id or
    the interaction's text)."""
    given = reviews.group_by("interaction_id").agg(verdicts_given=pl.col("verdict").sort().str.join(", "))
    chosen = items.filter(~pl.col("reviewers_agree") | (pl.col("verdict") == "unclear"))
    return _listed(chosen.join(given, on="interaction_id", how="left"), reviews, "verdicts_given")


def cases(items: pl.DataFrame, reviews: pl.DataFrame, verdict: str) -> pl.DataFrame:
    """Reviewed interactions with one verdict (agent_better: the wins; agent_worse: the regressions), each as a
    reference with its week, segment, reviewers and the failure modes they named."""
    chosen = items.filter(pl.col("verdict") == verdict).with_columns(pl.col("failure_modes").list.join(", "))
    return _listed(chosen, reviews, "failure_modes")


def _listed(chosen: pl.DataFrame, reviews: pl.DataFrame, extra: str) -> pl.DataFrame:
    """A list of reviewed interactions for a page: `reference(interaction_id)` in place of the id."""
    names = reviews.group_by("interaction_id").agg(reviewers=pl.col("reviewer").unique().sort().str.join(", "))
    return (
        chosen.drop("reviewers")
        .join(names, on="interaction_id", how="left")
        .sort("week", "segment", "interaction_id")
        .select(
            reference_expr(pl.col("interaction_id")).alias("reference"),
            "week",
            "segment",
            "verdict",
            "reviewers",
            extra,
        )
    )


def regressions_to_evals(
    evals: pl.DataFrame,
    reviews: pl.DataFrame,
    *,
    agent_version: str,
    run_at: dt.datetime,
    run_id: str | None = None,
    category: str = "prior_failure",
) -> pl.DataFrame:
    """Append the shadow reviews' agent_worse interactions to an eval set as `source = "shadow_regression"`
    tasks.

    `reviews` holds at least interaction_id and verdict (the reviews table, or `review_items(...).items`); an
    interaction counts when its majority verdict is agent_worse. Task ids are the interaction ids; ids already
    in `evals` (any run, any source) are not added again, so calling this twice changes nothing. New rows have
    `passed = False` (the agent was judged worse than the human), `run_id` defaulting to
    "shadow-regressions-<date>", and null in columns they do not know.
    """
    if run_at.tzinfo is None:
        raise RolloutkitError(
            "`run_at` must be timezone-aware, e.g. datetime(2026, 11, 2, tzinfo=timezone.utc)"
        )
    known = ("typical", "edge", "prior_failure", "adversarial")
    if category not in known:
        raise RolloutkitError(f"`category` must be one of {', '.join(known)}, got {category!r}")
    missing = [c for c in ("interaction_id", "verdict") if c not in reviews.columns]
    if missing:
        raise RolloutkitError(
            f"`reviews` needs column(s) {', '.join(missing)} (it has: {', '.join(reviews.columns)})"
        )
    lazy = reviews.lazy()
    if "phase" in reviews.columns:
        lazy = shadow_reviews(lazy)
    votes = lazy.group_by("interaction_id", "verdict").agg(votes=pl.len())
    worse = (
        votes.group_by("interaction_id")
        .agg(leaders=pl.col("verdict").filter(pl.col("votes") == pl.col("votes").max()))
        .filter((pl.col("leaders").list.len() == 1) & (pl.col("leaders").list.first() == "agent_worse"))
        .select(pl.col("interaction_id").alias("task_id"))
        .join(evals.lazy().select("task_id"), on="task_id", how="anti")
        .sort("task_id")
        .collect()
    )
    utc = run_at.astimezone(dt.UTC)
    new = worse.select(
        pl.lit(run_id or f"shadow-regressions-{utc.date().isoformat()}").alias("run_id"),
        pl.lit(utc).cast(pl.Datetime("us", "UTC")).alias("run_at"),
        pl.lit(agent_version).alias("agent_version"),
        "task_id",
        pl.lit(category).alias("category"),
        pl.lit(False).alias("passed"),
        pl.lit("shadow_regression").alias("source"),
    )
    if "day" in evals.columns:
        new = new.with_columns(day=pl.lit(utc.date()))
    return pl.concat([evals, new], how="diagonal_relaxed").select(
        evals.columns + [c for c in new.columns if c not in evals.columns]
    )
