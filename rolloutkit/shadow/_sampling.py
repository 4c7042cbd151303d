"""Review samples of a shadow week: stratified by segment, oversampling what reviewers most need to see.

Strata are segment × (agent and human disagree or not) × (high risk or not). Each stratum's share of the
sample is proportional to its size times an oversampling factor (disagreements, high-risk and rare segments
count more), with at least `MIN_PER_STRATUM` per stratum so every stratum has a variance; within a stratum the
draw is a simple random sample without replacement, so each row's inclusion probability is exactly n_h / N_h.
Reviewers fill in `verdict` and `failure_mode`; the verdict estimates weight each review by 1 /
`inclusion_prob` so the oversampling does not bias them.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import polars as pl

from rolloutkit.errors import MissingTableError, RolloutkitError
from rolloutkit.text import iso_week_expr
from rolloutkit.workspace import Workspace

DISAGREE_FACTOR = 4.0
HIGH_RISK_FACTOR = 2.0
RARE_FACTOR = 3.0
#: A segment with less than this share of the week's interactions is rare.
RARE_SHARE = 0.05
MIN_PER_STRATUM = 2
SAMPLE_COLUMNS = (
    "interaction_id",
    "segment",
    "stratum",
    "agent_action",
    "human_action",
    "inclusion_prob",
    "verdict",
    "failure_mode",
)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def week_days(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week written like 2026-W45."""
    match = _WEEK.match(week.strip()) if isinstance(week, str) else None
    if match is None:
        raise RolloutkitError(f"`week` must be an ISO week like 2026-W45, got {week!r}")
    try:
        monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise RolloutkitError(f"`week` {week!r} does not exist (ISO years have 52 or 53 weeks)") from None
    return monday, monday + dt.timedelta(days=6)


def draw_sample(ws: Workspace, *, week: str, size: int | None = None, seed: int = 0) -> pl.DataFrame:
    """A stratified review sample of one ISO week's shadow interactions, deterministic for a seed.

    Columns: interaction_id, segment, stratum, agent_action, human_action, inclusion_prob, verdict (empty),
    failure_mode (empty). `size` defaults to the charter's `shadow.reviews_per_week`; a week smaller than the
    size is taken whole (inclusion_prob 1).
    """
    monday, sunday = week_days(week)
    size = ws.charter.shadow.reviews_per_week if size is None else size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise RolloutkitError(f"`size` must be a whole number of at least 1, got {size!r}")
    if not ws.has("shadow") and ws.has("shadow_daily"):
        raise MissingTableError(
            f"{ws.path.name}: a review sample is drawn from the shadow rows (each interaction's id and both "
            f"actions), and this workspace has only their daily counts ({ws.sources['shadow_daily'].location}); "
            "add the shadow rows (shadow.parquet, .csv, .ndjson or a folder shadow/), or draw the sample where the "
            "rows are",
            table="shadow",
        )
    shadow = ws.table("shadow")
    has_risk = "risk" in shadow.collect_schema().names()
    population = (
        shadow.filter(pl.col("day").is_between(monday, sunday))
        .select(
            "interaction_id",
            "segment",
            "agent_action",
            "human_action",
            (pl.col("risk") == "high").fill_null(False).alias("high_risk")
            if has_risk
            else pl.lit(False).alias("high_risk"),
        )
        .sort("interaction_id")
        .collect()
    )
    if population.is_empty():
        weeks = (
            shadow.select(
                iso_week_expr(pl.col("day")).min().alias("first"), iso_week_expr(pl.col("day")).max().alias("last")
            )
            .collect()
            .row(0)
        )
        covered = f"shadow data covers {weeks[0]} .. {weeks[1]}" if weeks[0] else "the shadow table is empty"
        raise RolloutkitError(f"no shadow interactions in week {week} ({covered})")
    return sample_population(population, size=size, seed=seed)


def sample_population(population: pl.DataFrame, *, size: int, seed: int = 0) -> pl.DataFrame:
    """The stratified draw behind `draw_sample`, on a frame of one week's interactions (sorted by id).

    `population` needs interaction_id, segment, agent_action, human_action and a boolean `high_risk`.
    """
    disagree = pl.col("agent_action") != pl.col("human_action")
    frame = population.with_columns(
        stratum=pl.concat_str(
            pl.col("segment"),
            pl.when(disagree).then(pl.lit("/disagree")).otherwise(pl.lit("/agree")),
            pl.when(pl.col("high_risk")).then(pl.lit("/high-risk")).otherwise(pl.lit("")),
        ),
        factor=(
            pl.when(disagree).then(DISAGREE_FACTOR).otherwise(1.0)
            * pl.when(pl.col("high_risk")).then(HIGH_RISK_FACTOR).otherwise(1.0)
            * pl.when(pl.len().over("segment") < RARE_SHARE * pl.len()).then(RARE_FACTOR).otherwise(1.0)
        ),
    )
    strata = frame.group_by("stratum").agg(size=pl.len(), factor=pl.col("factor").first()).sort("stratum")
    allocated = strata.with_columns(
        take=pl.Series(
            _allocate(strata["size"].to_numpy(), strata["factor"].to_numpy(), size), dtype=pl.Int64
        )
    )
    draw = np.random.default_rng(seed).random(frame.height)
    return (
        frame.with_columns(draw=pl.Series(draw))
        .join(allocated.select("stratum", "size", "take"), on="stratum", how="left")
        .filter(pl.col("draw").rank("ordinal").over("stratum") <= pl.col("take"))
        .select(
            "interaction_id",
            "segment",
            "stratum",
            "agent_action",
            "human_action",
            (pl.col("take") / pl.col("size")).alias("inclusion_prob"),
            pl.lit(None, pl.String).alias("verdict"),
            pl.lit(None, pl.String).alias("failure_mode"),
        )
        .sort("interaction_id")
    )


def _allocate(sizes: np.ndarray, factors: np.ndarray, total: int) -> np.ndarray:
    """Whole sample sizes per stratum: ∝ size × factor, at least MIN_PER_STRATUM, at most the stratum, summing
    to `total` (or to everything when the week is smaller than `total`)."""
    sizes = sizes.astype(float)
    if total >= sizes.sum():
        return sizes.astype(int)
    floor = np.minimum(sizes, MIN_PER_STRATUM)
    if floor.sum() > total:  # more strata than the sample can cover twice: one each from the largest scores
        floor = np.zeros_like(sizes)
    scores = sizes * factors

    def filled(scale: float) -> np.ndarray:
        return np.minimum(sizes, np.maximum(floor, scale * scores))

    low, high = 0.0, float(total / scores.min()) + 1.0
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if filled(mid).sum() < total else (low, mid)
    ideal = filled(high)
    take = np.floor(ideal)
    short = int(total - take.sum())
    room = np.where(take < sizes, ideal - take, -math.inf)
    take[np.argsort(-room, kind="stable")[: max(short, 0)]] += 1
    return take.astype(int)
