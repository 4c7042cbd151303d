"""Charts for the shadow phase. Inputs are the aggregated frames of `rolloutkit.shadow.page` (never raw rows);
each chart's title states its finding, an empty frame gives a chart that says there is no data, and a page's
`Missing` part is returned as is (it shows as a note)."""

from __future__ import annotations

import altair as alt
import polars as pl

from rolloutkit.charts.base import COLOURS, HEIGHT, WIDTH, no_data, passes_missing, threshold_rule, titled
from rolloutkit.shadow import ALL_WEEKS

__all__ = [
    "shadow_agent_worse",
    "shadow_agreement_trend",
    "shadow_cost_latency",
    "shadow_failure_modes",
    "shadow_noise_floor",
    "shadow_segment_agreement",
    "shadow_verdict_mix",
]

VERDICT_COLOURS = {
    "agent_better": "#1b7f3b",
    "equivalent": "#98c1d9",
    "agent_worse": "#b3261e",
    "unclear": "#8d99ae",
}
_PCT = alt.Axis(format="%")


def _interval(base: alt.Chart, x: str, y: str, colour: str, **extra: object) -> alt.Chart:
    return base.mark_rule(color=colour, strokeWidth=2).encode(
        x=x, y=alt.Y(f"{y}_lower:Q"), y2=f"{y}_upper:Q", **extra
    )


@passes_missing
def shadow_agreement_trend(weekly: pl.DataFrame) -> alt.TopLevelMixin:
    """Agent–human action agreement per ISO week with Wilson intervals, the overall rate drawn across."""
    weeks = weekly.filter(pl.col("week") != ALL_WEEKS) if weekly.height else weekly
    if weeks.is_empty():
        return no_data("Agreement of agent and human actions", "no shadow interactions")
    overall = weekly.filter(pl.col("week") == ALL_WEEKS).row(0, named=True)
    lowest = weeks.sort("agreement").row(0, named=True)
    data = weeks.rename({"lower": "agreement_lower", "upper": "agreement_upper"})
    base = alt.Chart(data)
    tooltip = [
        "week:O",
        alt.Tooltip("agreement:Q", format=".1%"),
        alt.Tooltip("agreement_lower:Q", format=".1%"),
        alt.Tooltip("agreement_upper:Q", format=".1%"),
        "agreed:Q",
        "interactions:Q",
    ]
    line = base.mark_line(point=True, color=COLOURS["agent"]).encode(
        x=alt.X("week:O", title="ISO week"),
        y=alt.Y("agreement:Q", axis=_PCT, title="agent action = human action", scale=alt.Scale(zero=False)),
        tooltip=tooltip,
    )
    bars = _interval(base, "week:O", "agreement", COLOURS["agent"])
    rule = threshold_rule(
        overall["agreement"], f"overall {overall['agreement']:.1%}", colour=COLOURS["muted"]
    )
    return titled(
        (bars + line + rule).properties(width=WIDTH, height=HEIGHT),
        f"The agent does what the human did in {overall['agreement']:.1%} of interactions",
        f"lowest week {lowest['week']} at {lowest['agreement']:.1%}; bars are 95% Wilson intervals",
    )


@passes_missing
def shadow_segment_agreement(segments: pl.DataFrame) -> alt.TopLevelMixin:
    """Agreement per segment, lowest first, with Wilson intervals and the overall rate."""
    if segments.is_empty():
        return no_data("Agreement by segment", "no shadow interactions")
    overall = segments["agreed"].sum() / segments["interactions"].sum()
    lowest = segments.row(0, named=True)
    data = segments.rename({"lower": "agreement_lower", "upper": "agreement_upper"})
    order = data["segment"].to_list()
    base = alt.Chart(data)
    y = alt.Y("segment:N", sort=order, title=None)
    tooltip = ["segment:N", alt.Tooltip("agreement:Q", format=".1%"), "agreed:Q", "interactions:Q"]
    # dots, not bars: segments differ by a few points near the top of the scale, which bars from 0 would hide
    x = alt.X("agreement:Q", axis=_PCT, title="agent action = human action", scale=alt.Scale(zero=False))
    bars = base.mark_point(filled=True, size=70, color=COLOURS["agent"]).encode(x=x, y=y, tooltip=tooltip)
    whiskers = base.mark_rule(color=COLOURS["agent"], strokeWidth=2).encode(
        x="agreement_lower:Q", x2="agreement_upper:Q", y=y
    )
    rule = threshold_rule(overall, f"overall {overall:.1%}", axis="x", colour=COLOURS["muted"])
    return titled(
        (bars + whiskers + rule).properties(width=WIDTH, height=max(120, 26 * len(order))),
        f"Lowest agreement in {lowest['segment']}: {lowest['agreement']:.1%}",
        "segments ranked from the lowest agreement; lines are 95% Wilson intervals",
    )


@passes_missing
def shadow_verdict_mix(verdicts: pl.DataFrame) -> alt.TopLevelMixin:
    """Weighted share of each verdict per ISO week and overall, stacked to 100%."""
    if verdicts.is_empty() or verdicts["reviewed"].max() == 0:
        return no_data("Review verdicts", "no shadow reviews")
    data = verdicts.filter(pl.col("reviewed") > 0)
    worse = data.filter((pl.col("week") == ALL_WEEKS) & (pl.col("verdict") == "agent_worse")).row(0, named=True)
    better = data.filter((pl.col("week") == ALL_WEEKS) & (pl.col("verdict") == "agent_better")).row(0, named=True)
    colour = alt.Color(
        "verdict:N",
        scale=alt.Scale(domain=list(VERDICT_COLOURS), range=list(VERDICT_COLOURS.values())),
        sort=list(VERDICT_COLOURS),
        title="verdict",
    )
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("week:O", title="ISO week (all = every week pooled)"),
            y=alt.Y("estimate:Q", stack="normalize", axis=_PCT, title="weighted share of outputs"),
            color=colour,
            order=alt.Order("verdict_order:Q"),
            tooltip=[
                "week:O",
                "verdict:N",
                alt.Tooltip("estimate:Q", format=".1%"),
                alt.Tooltip("lower:Q", format=".1%"),
                alt.Tooltip("upper:Q", format=".1%"),
                "found:Q",
                "reviewed:Q",
            ],
        )
        .transform_calculate(
            verdict_order="indexof(['agent_better','equivalent','unclear','agent_worse'], datum.verdict)"
        )
    )
    return titled(
        chart.properties(width=WIDTH, height=HEIGHT),
        f"Reviewers judge the agent better in {better['estimate']:.1%} and worse in {worse['estimate']:.1%} "
        "of outputs",
        "shares weighted by 1 / inclusion probability, so oversampled strata do not bias them",
    )


@passes_missing
def shadow_agent_worse(verdicts: pl.DataFrame, limit: float) -> alt.TopLevelMixin:
    """Agent-worse share per week and overall, weighted beside unweighted, with intervals and the charter
    limit."""
    if verdicts.is_empty() or verdicts["reviewed"].max() == 0:
        return no_data("Agent worse than the human", "no shadow reviews")
    rows = verdicts.filter((pl.col("verdict") == "agent_worse") & (pl.col("reviewed") > 0))
    long = pl.concat(
        [
            rows.select(
                "week",
                "reviewed",
                pl.lit("weighted").alias("estimator"),
                "estimate",
                pl.col("lower").alias("estimate_lower"),
                pl.col("upper").alias("estimate_upper"),
            ),
            rows.select(
                "week",
                "reviewed",
                pl.lit("unweighted").alias("estimator"),
                pl.col("unweighted_estimate").alias("estimate"),
                pl.col("unweighted_lower").alias("estimate_lower"),
                pl.col("unweighted_upper").alias("estimate_upper"),
            ),
        ]
    )
    overall = rows.filter(pl.col("week") == ALL_WEEKS).row(0, named=True)
    colour = alt.Color(
        "estimator:N",
        scale=alt.Scale(domain=["weighted", "unweighted"], range=[COLOURS["agent"], COLOURS["muted"]]),
    )
    base = alt.Chart(long).encode(
        x=alt.X("week:O", title="ISO week (all = every week pooled)"),
        xOffset=alt.XOffset("estimator:N", sort=["weighted", "unweighted"]),
        color=colour,
    )
    tooltip = [
        "week:O",
        "estimator:N",
        alt.Tooltip("estimate:Q", format=".1%"),
        alt.Tooltip("estimate_lower:Q", format=".1%"),
        alt.Tooltip("estimate_upper:Q", format=".1%"),
        "reviewed:Q",
    ]
    points = base.mark_point(filled=True, size=70).encode(
        y=alt.Y("estimate:Q", axis=_PCT, title="share of outputs judged agent_worse"), tooltip=tooltip
    )
    whiskers = base.mark_rule(strokeWidth=2).encode(y="estimate_lower:Q", y2="estimate_upper:Q")
    verdict = "within" if overall["upper"] <= limit else "above"
    return titled(
        (whiskers + points + threshold_rule(limit, f"limit {limit:.1%}")).properties(
            width=WIDTH, height=HEIGHT
        ),
        f"Agent worse in {overall['estimate']:.1%} of outputs (upper bound {overall['upper']:.1%}, "
        f"{verdict} the {limit:.1%} limit)",
        f"ignoring the oversampling (unweighted) it would read {overall['unweighted_estimate']:.1%}; "
        "the gate uses the weighted upper bound",
    )


@passes_missing
def shadow_failure_modes(findings: pl.DataFrame) -> alt.TopLevelMixin:
    """Weighted rate of each charter failure mode found in review, its interval and its limit."""
    if findings.is_empty() or findings["reviewed"].max() == 0:
        return no_data("Failure modes found in review", "no shadow reviews")
    data = findings.with_columns(
        limit_label=pl.when(pl.col("zero_tolerance"))
        .then(pl.lit("zero tolerance"))
        .otherwise(pl.format("limit {}%", (pl.col("max_rate") * 100).round(2))),
        estimate_lower=pl.col("lower"),
        estimate_upper=pl.col("upper"),
    )
    base = alt.Chart(data)
    y = alt.Y("failure_mode:N", title=None)
    tooltip = [
        "failure_mode:N",
        alt.Tooltip("estimate:Q", format=".2%"),
        alt.Tooltip("lower:Q", format=".2%"),
        alt.Tooltip("upper:Q", format=".2%"),
        alt.Tooltip("max_rate:Q", format=".2%"),
        "found:Q",
        "reviewed:Q",
        "limit_label:N",
    ]
    bars = base.mark_bar(color=COLOURS["agent"]).encode(
        x=alt.X("estimate:Q", axis=alt.Axis(format=".1%"), title="weighted share of reviewed outputs"),
        y=y,
        tooltip=tooltip,
    )
    whiskers = base.mark_rule(color="#333", strokeWidth=1.5).encode(
        x="estimate_lower:Q", x2="estimate_upper:Q", y=y
    )
    limits = base.mark_tick(color=COLOURS["threshold"], thickness=3, size=22).encode(
        x="max_rate:Q", y=y, tooltip=tooltip
    )
    found = data.filter(pl.col("found") > 0)
    headline = (
        f"{found.height} of {data.height} failure modes found in review"
        if found.height
        else f"No failure mode found in {int(data['reviewed'].max())} reviewed outputs"
    )
    zero = found.filter(pl.col("zero_tolerance"))
    if zero.height:
        headline += f"; zero-tolerance {', '.join(zero['failure_mode'])} found"
    return titled(
        (bars + whiskers + limits).properties(width=WIDTH, height=max(90, 34 * data.height)),
        headline,
        "red ticks: the charter's limit (at 0 for zero-tolerance modes); lines: 95% intervals",
    )


@passes_missing
def shadow_noise_floor(noise: pl.DataFrame) -> alt.TopLevelMixin:
    """Human–human disagreement next to the agent's weighted agent_worse and unclear shares."""
    if noise.is_empty() or noise["estimate"].is_null().all():
        return no_data("Reviewers' own disagreement", "no interaction was reviewed by two or more people")
    data = noise.drop_nulls("estimate").rename({"lower": "estimate_lower", "upper": "estimate_upper"})
    base = alt.Chart(data)
    y = alt.Y("measure:N", sort=data["measure"].to_list(), title=None)
    tooltip = [
        "measure:N",
        alt.Tooltip("estimate:Q", format=".1%"),
        alt.Tooltip("estimate_lower:Q", format=".1%"),
        alt.Tooltip("estimate_upper:Q", format=".1%"),
        "basis:N",
    ]
    bars = base.mark_bar().encode(
        x=alt.X("estimate:Q", axis=_PCT, title="share"),
        y=y,
        tooltip=tooltip,
        color=alt.Color(
            "kind:N",
            scale=alt.Scale(domain=["humans", "agent"], range=[COLOURS["human"], COLOURS["agent"]]),
            title=None,
        ),
    )
    whiskers = base.mark_rule(color="#333", strokeWidth=1.5).encode(
        x="estimate_lower:Q", x2="estimate_upper:Q", y=y
    )
    floor = data.filter(pl.col("kind") == "humans").row(0, named=True)
    rule = threshold_rule(floor["estimate"], "noise floor", axis="x", colour=COLOURS["muted"])
    return titled(
        (bars + whiskers + rule).properties(width=WIDTH, height=110),
        f"Reviewers disagree with each other on {floor['estimate']:.1%} of double-reviewed outputs",
        "differences between agent and human smaller than this are within the noise of human judgement",
    )


@passes_missing
def shadow_cost_latency(cost: pl.DataFrame) -> alt.TopLevelMixin:
    """Median agent latency against median human handle time per week (seconds, log scale)."""
    needed = {"agent_latency_s_median", "human_handle_s_median"}
    if cost.is_empty() or not needed <= set(cost.columns):
        return no_data("Agent latency against human handle time", "no latency or handle-time columns")
    long = pl.concat(
        [
            cost.select(
                "week",
                pl.lit("agent latency").alias("who"),
                pl.col("agent_latency_s_median").alias("median"),
                pl.col("agent_latency_s_p90").alias("p90"),
            ),
            cost.select(
                "week",
                pl.lit("human handle time").alias("who"),
                pl.col("human_handle_s_median").alias("median"),
                pl.col("human_handle_s_p90").alias("p90"),
            ),
        ]
    )
    agent, human = cost["agent_latency_s_median"].median(), cost["human_handle_s_median"].median()
    colour = alt.Color(
        "who:N",
        scale=alt.Scale(
            domain=["agent latency", "human handle time"], range=[COLOURS["agent"], COLOURS["human"]]
        ),
        title=None,
    )
    tooltip = ["week:O", "who:N", alt.Tooltip("median:Q", format=".1f"), alt.Tooltip("p90:Q", format=".1f")]
    base = alt.Chart(long).encode(x=alt.X("week:O", title="ISO week"), color=colour, tooltip=tooltip)
    y = alt.Y("median:Q", scale=alt.Scale(type="log"), title="seconds (median; line to p90, log scale)")
    points = base.mark_point(filled=True, size=80).encode(y=y)
    whiskers = base.mark_rule(strokeWidth=2).encode(y="median:Q", y2="p90:Q")
    return titled(
        (whiskers + points).properties(width=WIDTH, height=HEIGHT),
        f"The agent answers in {agent:.1f} s (median) where a human takes {human / 60:.1f} min",
        "medians per ISO week; the line reaches the 90th percentile",
    )
