"""Supervision at 100%: the sampled review of live agent outputs.

Supervision reviews are `reviews` rows with `phase == "supervision"` (when the table has no `phase` column: the
reviews whose interaction_id is a canary interaction). They reference canary interactions of the agent arm, and
every weekly figure is bucketed by the week of the *interaction*, so the sample rate is reviewed interactions over
agent interactions of the same week. The denominator comes from `canary.daily_counts` (rows or `canary_daily`
counts alike); matching a review to its interaction needs the canary rows, so a workspace with counts only buckets
each reviewed interaction by the day of its first review and cannot tell reviews of unknown interactions apart.

Why a confidence sequence for the alert: the rates are re-read every week on the growing sample, and a fixed-sample
interval checked weekly would cross a limit by chance far more often than 1 − confidence promises. The beta-binomial
mixture confidence sequence (`stats.bernoulli_confidence_sequence_bounds`) holds at every look at once, so an alert
raised on it is not an artefact of looking often. Weekly Wilson intervals are shown too, for reading the trend only.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit import stats
from rolloutkit.checks import Check, Status
from rolloutkit.errors import MissingTableError
from rolloutkit.supervision._counts import daily_volumes, reviews_matched
from rolloutkit.supervision._results import AGENT_WORSE, RATES_SCHEMA, SAMPLE_SCHEMA
from rolloutkit.text import iso_week_expr, pct, plural
from rolloutkit.workspace import Workspace

#: Weeks of expected reviews at which the confidence sequence is tightest (the first month at 100%).
TUNING_WEEKS = 4
#: An alert status of `review_rates` as a check's status.
CHECK_STATUS: dict[str, Status] = {"alert": "fail", "within": "pass", "watching": "insufficient"}


def _day(ws: Workspace, as_of: dt.date | str | None) -> dt.date:
    return ws.resolve_as_of(as_of)


def _supervision_reviews(ws: Workspace) -> pl.LazyFrame:
    reviews = ws.table("reviews")
    if "phase" in reviews.collect_schema():
        return reviews.filter(pl.col("phase") == "supervision")
    if not ws.has("canary"):
        raise MissingTableError(f"{ws.path.name}: reviews without a `phase` column are told apart as supervision "
                                "reviews by matching their interaction_id to canary rows, and this workspace holds "
                                "only `canary_daily` counts; add a `phase` column to reviews", table="canary")
    return reviews.join(ws.table("canary").select("interaction_id"), on="interaction_id", how="semi")


def reviewed_ids(ws: Workspace) -> pl.LazyFrame | None:
    """The interaction_id of every supervision review, to tell which incidents the sample caught; None when the
    workspace cannot say (no reviews, or reviews without a `phase` column and no canary to match them to)."""
    if not ws.has("reviews") or not ("phase" in ws.table("reviews").collect_schema() or ws.has("canary")):
        return None
    return _supervision_reviews(ws).select("interaction_id")


def _reviewed(ws: Workspace, start: dt.date, day: dt.date) -> pl.LazyFrame:
    """The reviewed agent interactions of `start`..`day`: interaction_id and the interaction's day. From counts
    only, the day of the interaction's first supervision review stands in for it (no rows to match)."""
    ids = _supervision_reviews(ws)
    if reviews_matched(ws):
        return (ws.table("canary")
                .filter((pl.col("arm") == "agent") & pl.col("day").is_between(start, day))
                .select("interaction_id", "day")
                .join(ids.select("interaction_id").unique(), on="interaction_id", how="semi"))
    return (ids.group_by("interaction_id").agg(pl.col("day").min())
            .filter(pl.col("day").is_between(start, day)))


def supervision_start(ws: Workspace, *, as_of: dt.date | str | None = None) -> dt.date | None:
    """First day at 100%: the first flag change to a share of 1.0; without flags, the first reviewed day.

    None when the agent has not reached 100% by `as_of` (supervision has not started).
    """
    day = _day(ws, as_of)
    if ws.has("flags"):
        return (ws.table("flags").filter((pl.col("day") <= day) & (pl.col("traffic_share") >= 1.0))
                .select(pl.col("day").min()).collect().item())
    if not ws.has("reviews"):
        return None
    if reviews_matched(ws):
        reviewed = ws.table("canary").join(_supervision_reviews(ws).select("interaction_id"), on="interaction_id",
                                           how="semi")
    else:
        reviewed = _supervision_reviews(ws)
    return reviewed.filter(pl.col("day") <= day).select(pl.col("day").min()).collect().item()


def current_share(ws: Workspace, *, as_of: dt.date | str | None = None) -> float | None:
    """The traffic share the flag routes to the agent at the end of `as_of`; None without a flags table."""
    if not ws.has("flags"):
        return None
    day = _day(ws, as_of)
    return (ws.table("flags").filter(pl.col("day") <= day).sort("ts")
            .select(pl.col("traffic_share").last()).collect().item())


def _weeks(start: dt.date, day: dt.date) -> pl.DataFrame:
    monday = start - dt.timedelta(days=start.weekday())
    return pl.DataFrame({"week": pl.date_range(monday, day, "1w", eager=True)}).with_columns(
        week_label=iso_week_expr(pl.col("week")))


def sample_rate(ws: Workspace, *, as_of: dt.date | str | None = None, tolerance: float = 0.10) -> pl.DataFrame:
    """Reviewed share of agent interactions per ISO week at 100%, against the charter's `supervision.sample_rate`.

    A week `reached` the target when its rate is at least (1 − `tolerance`) × target: a random draw at exactly the
    target rate lands a few percent either side of it. The first and the current week may be partial (`days`).
    Empty before supervision starts.
    """
    day = _day(ws, as_of)
    start = supervision_start(ws, as_of=day)
    if start is None:
        return pl.DataFrame(schema=SAMPLE_SCHEMA)
    target = ws.charter.supervision.sample_rate
    week = pl.col("day").dt.truncate("1w").alias("week")
    reviewed = _reviewed(ws, start, day).group_by(week).agg(reviewed=pl.len()).collect()
    traffic = (daily_volumes(ws, as_of=day).filter(pl.col("day").is_between(start, day) & (pl.col("agent") > 0))
               .group_by(week).agg(days=pl.len(), interactions=pl.col("agent").sum()))
    weekly = traffic.join(reviewed, on="week", how="left")
    return (_weeks(start, day).join(weekly, on="week", how="left")
            .with_columns(pl.col("days", "interactions", "reviewed").fill_null(0).cast(pl.Int64))
            .with_columns(sample_rate=pl.when(pl.col("interactions") > 0)
                          .then(pl.col("reviewed") / pl.col("interactions")),
                          target=pl.lit(target, pl.Float64))
            .with_columns(reached=pl.col("sample_rate").fill_null(0) >= target * (1 - tolerance))
            .select(list(SAMPLE_SCHEMA)))


def unmatched_reviews(ws: Workspace) -> int:
    """Supervision reviews whose interaction_id is no agent-arm canary interaction (left out of every rate); 0 when
    the workspace holds counts only and cannot tell (`reviews_matched`)."""
    if not reviews_matched(ws):
        return 0
    agent = ws.table("canary").filter(pl.col("arm") == "agent").select("interaction_id")
    return int(_supervision_reviews(ws).join(agent, on="interaction_id", how="anti").select(pl.len())
               .collect().item())


def review_rates(ws: Workspace, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Weekly agent_worse and failure-mode rates of the reviewed sample, with intervals and the alert status.

    One row per (week, metric); metric is `agent_worse` (limit: the charter's `shadow.max_agent_worse_rate`) or a
    charter failure mode (limit: its `max_rate`). An interaction counts as an event when any of its reviewers
    reports it (conservative when reviewers disagree). `lower`/`upper`: the week's Wilson interval at the
    charter's confidence; `cs_lower`/`cs_upper`: the confidence sequence on everything reviewed since 100%.
    `status`: `alert` when the sequence's lower bound is above the limit (or a zero-tolerance mode occurred),
    `within` when its upper bound is at or below the limit (a zero-tolerance mode: no occurrence so far), else
    `watching`.
    """
    day = _day(ws, as_of)
    start = supervision_start(ws, as_of=day)
    if start is None:
        return pl.DataFrame(schema=RATES_SCHEMA)
    charter = ws.charter
    limits = {AGENT_WORSE: (charter.shadow.max_agent_worse_rate, False)}
    limits |= {m.name: (m.max_rate, m.zero_tolerance) for m in charter.failure_modes}
    names = list(limits)
    flags = [pl.col("verdict") == AGENT_WORSE] + [pl.col("failure_mode") == m for m in names[1:]]
    per_interaction = _supervision_reviews(ws).group_by("interaction_id").agg(
        flag.fill_null(False).any().alias(f"m{i}") for i, flag in enumerate(flags))
    weekly = (_reviewed(ws, start, day).join(per_interaction, on="interaction_id", how="inner")
              .group_by(week=pl.col("day").dt.truncate("1w"))
              .agg(pl.len().alias("reviewed"), *[pl.col(f"m{i}").sum() for i in range(len(names))])
              .collect())
    metrics = pl.DataFrame({"metric": names, "limit": [limits[n][0] for n in names],
                            "zero_tolerance": [limits[n][1] for n in names]},
                           schema={"metric": pl.String, "limit": pl.Float64, "zero_tolerance": pl.Boolean})
    long = (weekly.unpivot(index=["week", "reviewed"], on=[f"m{i}" for i in range(len(names))],
                           variable_name="metric", value_name="events")
            .with_columns(pl.col("metric").replace_strict({f"m{i}": n for i, n in enumerate(names)})))
    grid = (_weeks(start, day).join(metrics, how="cross")
            .join(long, on=["week", "metric"], how="left")
            .with_columns(pl.col("reviewed", "events").fill_null(0).cast(pl.Int64))
            .sort("metric", "week")
            .with_columns(cum_reviewed=pl.col("reviewed").cum_sum().over("metric"),
                          cum_events=pl.col("events").cum_sum().over("metric")))
    return _with_intervals(grid, ws, names).sort("week", pl.col("metric").replace_strict(
        {n: i for i, n in enumerate(names)}, return_dtype=pl.Int64)).select(list(RATES_SCHEMA))


def _with_intervals(grid: pl.DataFrame, ws: Workspace, names: list[str]) -> pl.DataFrame:
    confidence = ws.charter.canary.confidence
    charter = ws.charter
    tuning = max(1.0, charter.supervision.sample_rate * charter.traffic.daily_interactions * 7 * TUNING_WEEKS)
    weekly = [stats.wilson_interval(x, n, confidence=confidence)
              for x, n in zip(grid["events"], grid["reviewed"], strict=True)]
    bounds = stats.bernoulli_confidence_sequence_bounds(grid["cum_events"].to_numpy(),
                                                        grid["cum_reviewed"].to_numpy(),
                                                        alpha=1 - confidence, tuning_trials=tuning)
    no_data = pl.col("reviewed") == 0
    return grid.with_columns(
        rate=pl.when(~no_data).then(pl.col("events") / pl.col("reviewed")),
        lower=pl.when(~no_data).then(pl.Series([i.lower for i in weekly], dtype=pl.Float64)),
        upper=pl.when(~no_data).then(pl.Series([i.upper for i in weekly], dtype=pl.Float64)),
        cum_rate=pl.when(pl.col("cum_reviewed") > 0).then(pl.col("cum_events") / pl.col("cum_reviewed")),
        cs_lower=pl.Series(bounds.lower, dtype=pl.Float64),
        cs_upper=pl.Series(bounds.upper, dtype=pl.Float64),
    ).with_columns(
        status=pl.when((pl.col("zero_tolerance") & (pl.col("cum_events") > 0))
                       | (~pl.col("zero_tolerance") & (pl.col("cs_lower") > pl.col("limit"))))
        .then(pl.lit("alert"))
        .when(pl.col("zero_tolerance") | (pl.col("cs_upper") <= pl.col("limit")))
        .then(pl.lit("within"))
        .otherwise(pl.lit("watching")))


def alerts(rates: pl.DataFrame) -> pl.DataFrame:
    """Each metric's latest week from `review_rates`: metric, limit, cumulative counts and rate, bounds, status."""
    return (rates.group_by("metric", maintain_order=True).agg(pl.all().sort_by("week").last())
            .select("metric", "limit", "zero_tolerance", "week", "cum_reviewed", "cum_events", "cum_rate",
                    "cs_lower", "cs_upper", "status"))


def alert_checks(latest: pl.DataFrame) -> tuple[Check, ...]:
    """The rows of `alerts` as checks: `agent_worse_rate` (a failure holds for investigation), then each
    failure mode as `failure_rate:<mode>` or `zero_tolerance:<mode>` (a failure rolls back). Estimate and bounds
    are the cumulative rate since 100% and its confidence sequence; the threshold is the charter limit."""
    return tuple(_check(row) for row in latest.iter_rows(named=True))


def _check(row: dict) -> Check:
    metric, limit = row["metric"], row["limit"]
    if metric == AGENT_WORSE:
        name = "agent_worse_rate"
    else:
        name = f"{'zero_tolerance' if row['zero_tolerance'] else 'failure_rate'}:{metric}"
    seen = f"{metric}: {row['cum_events']:,} of {plural(row['cum_reviewed'], 'reviewed output')} since 100%"
    bounds = f"{pct(row['cs_lower'])}–{pct(row['cs_upper'])}"
    if row["zero_tolerance"]:
        sentence = (f"{seen}; zero tolerance, so one occurrence rolls back." if row["status"] == "alert"
                    else f"{seen}; zero tolerance, and none so far.")
    elif row["status"] == "alert":
        sentence = f"{seen} ({pct(row['cum_rate'])}); bounds {bounds} are above the {pct(limit)} limit."
    elif row["status"] == "within":
        sentence = f"{seen} ({pct(row['cum_rate'])}); bounds {bounds} are within the {pct(limit)} limit."
    else:
        sentence = (f"{seen} ({pct(row['cum_rate'])}); bounds {bounds} straddle the {pct(limit)} limit: not yet "
                    "shown to be below it.")
    return Check(name=name, status=CHECK_STATUS[row["status"]], estimate=row["cum_rate"], lower=row["cs_lower"],
                 upper=row["cs_upper"], threshold=limit, sentence=sentence,
                 on_fail="hold" if metric == AGENT_WORSE else "rollback")
