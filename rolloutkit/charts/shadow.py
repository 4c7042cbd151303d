"""Charts for the shadow phase. Inputs are the aggregated frames of `rolloutkit.shadow.page` (never raw rows);
each chart's title states its finding, an empty frame gives a chart that says there is no data, and a page's
`Missing` part is returned as is (it shows as a note)."""

from __future__ import annotations

from collections.abc import Callable

import altair as alt
import polars as pl

from rolloutkit.charts.base import COLOURS, HEIGHT, WIDTH, no_data, passes_missing, threshold_rule, titled
from rolloutkit.shadow import ALL_WEEKS
from rolloutkit.text import duration, pct, usd

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
#: Rates on the whole 0–100% axis.
_WHOLE = alt.Scale(domain=[0, 1])


def _interval(base: alt.Chart, x: str, y: str, colour: str, **extra: object) -> alt.Chart:
    return base.mark_rule(color=colour, strokeWidth=2).encode(
        x=x, y=alt.Y(f"{y}_lower:Q"), y2=f"{y}_upper:Q", **extra
    )


@passes_missing
def shadow_agreement_trend(weekly: pl.DataFrame) -> alt.TopLevelMixin:
    """Agent–human action agreement per ISO week with Wilson intervals, the overall rate drawn across, on an axis
    from 0 to 100% so a drift of a few tenths of a point looks like what it is."""
    weeks = weekly.filter(pl.col("week") != ALL_WEEKS) if weekly.height else weekly
    if weeks.is_empty():
        return no_data("Agreement of agent and human actions", "no shadow interactions")
    overall = weekly.filter(pl.col("week") == ALL_WEEKS).row(0, named=True)
    lowest = weeks.sort("agreement").row(0, named=True)
    highest = weeks.sort("agreement").row(-1, named=True)
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
        x=alt.X("week:O", title="ISO week", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("agreement:Q", axis=_PCT, title="agent action = human action", scale=_WHOLE),
        tooltip=tooltip,
    )
    bars = _interval(base, "week:O", "agreement", COLOURS["agent"])
    rule = threshold_rule(overall["agreement"], f"overall {pct(overall['agreement'])}", colour=COLOURS["muted"])
    spread = highest["agreement"] - lowest["agreement"]
    return titled(
        (bars + line + rule).properties(width=WIDTH, height=HEIGHT),
        f"The agent does what the human did in {pct(overall['agreement'])} of interactions",
        f"axis 0–100%; weeks range from {pct(lowest['agreement'])} ({lowest['week']}) to "
        f"{pct(highest['agreement'])}, a spread of {spread * 100:.1f} points; bars are 95% Wilson intervals",
    )


@passes_missing
def shadow_segment_agreement(segments: pl.DataFrame) -> alt.TopLevelMixin:
    """Agreement per segment, lowest first, with Wilson intervals and the overall rate, on an axis from 0 to
    100%."""
    if segments.is_empty():
        return no_data("Agreement by segment", "no shadow interactions")
    overall = segments["agreed"].sum() / segments["interactions"].sum()
    lowest = segments.row(0, named=True)
    data = segments.rename({"lower": "agreement_lower", "upper": "agreement_upper"})
    order = data["segment"].to_list()
    base = alt.Chart(data)
    y = alt.Y("segment:N", sort=order, title=None)
    tooltip = ["segment:N", alt.Tooltip("agreement:Q", format=".1%"), "agreed:Q", "interactions:Q"]
    # dots on the whole 0–100% axis: bars would hide the intervals, a zoomed axis would turn points into gulfs
    x = alt.X("agreement:Q", axis=_PCT, title="agent action = human action", scale=_WHOLE)
    bars = base.mark_point(filled=True, size=70, color=COLOURS["agent"]).encode(x=x, y=y, tooltip=tooltip)
    whiskers = base.mark_rule(color=COLOURS["agent"], strokeWidth=2).encode(
        x="agreement_lower:Q", x2="agreement_upper:Q", y=y
    )
    rule = threshold_rule(overall, f"overall {pct(overall)}", axis="x", colour=COLOURS["muted"])
    return titled(
        (bars + whiskers + rule).properties(width=WIDTH, height=max(120, 26 * len(order))),
        f"Lowest agreement in {lowest['segment']}: {pct(lowest['agreement'])}",
        "axis 0–100%; segments ranked from the lowest agreement; lines are 95% Wilson intervals",
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
        f"Reviewers judge the agent better in {pct(better['estimate'])} and worse in {pct(worse['estimate'])} "
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
        (whiskers + points + threshold_rule(limit, f"limit {_limit(limit)}")).properties(
            width=WIDTH, height=HEIGHT
        ),
        f"Agent worse in {pct(overall['estimate'])} of outputs (upper bound {pct(overall['upper'])}, "
        f"{verdict} the {_limit(limit)} limit)",
        f"ignoring the oversampling (unweighted) it would read {pct(overall['unweighted_estimate'])}; "
        "the gate uses the weighted upper bound; the axis starts at 0",
    )


@passes_missing
def shadow_failure_modes(findings: pl.DataFrame) -> alt.TopLevelMixin:
    """Weighted rate of each charter failure mode found in review, its interval and its limit."""
    if findings.is_empty() or findings["reviewed"].max() == 0:
        return no_data("Failure modes found in review", "no shadow reviews")
    data = findings.with_columns(
        limit_label=pl.when(pl.col("zero_tolerance"))
        .then(pl.lit("zero tolerance"))
        .otherwise(pl.format("limit {}", pl.col("max_rate").map_elements(pct, return_dtype=pl.String))),
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
        f"Reviewers disagree with each other on {pct(floor['estimate'])} of double-reviewed outputs",
        "differences between agent and human smaller than this are within the noise of human judgement",
    )


@passes_missing
def shadow_cost_latency(cost: pl.DataFrame) -> alt.TopLevelMixin:
    """Dollars per interaction, agent beside human, and time per interaction (agent latency, human handle time),
    per ISO week, both on axes from 0; a side the data or the charter does not give is left out and named."""
    weeks = cost.filter(pl.col("week") != ALL_WEEKS) if cost.height else cost
    if weeks.is_empty():
        return no_data("Cost and time per interaction", "no cost, latency or handle-time columns")
    overall = cost.filter(pl.col("week") == ALL_WEEKS).row(0, named=True)
    panels, lines = [], []
    if "agent_cost_usd" in cost.columns:
        human = overall["human_cost_usd"]
        sides = {"agent": "agent_cost_usd"} | ({"human": "human_cost_usd"} if human is not None else {})
        panels.append(_per_interaction(weeks, sides, "dollars per interaction", "$,.2f", usd))
        agent = usd(overall["agent_cost_usd"])
        lines.append(f"The agent costs {agent} per interaction where a human costs {usd(human)}"
                     if human is not None else
                     f"The agent costs {agent} per interaction; the charter sets no human cost to compare")
        if human is None:
            lines.append("set traffic.human_cost_per_interaction_usd in charter.yaml to compare dollars")
    sides = {name: column for name, column in (("agent", "agent_latency_s"), ("human", "human_handle_s"))
             if column in cost.columns}
    if sides:
        panels.append(_per_interaction(weeks, sides, "seconds per interaction", ",.0f", duration))
        lines.append("time per interaction: " + ", ".join(f"{who} {duration(overall[c])}" for who, c in sides.items()))
    lines.append("means per ISO week; axes start at 0")
    chart = panels[0] if len(panels) == 1 else alt.vconcat(*panels, spacing=24)
    title = lines[0][:1].upper() + lines[0][1:]
    return titled(chart, title, "; ".join(lines[1:]))


def _per_interaction(weeks: pl.DataFrame, sides: dict[str, str], title: str, number: str,
                     words: Callable[[float | None], str]) -> alt.Chart:
    """Grouped bars per ISO week from 0, one per side (agent, human), each labelled with its value in words."""
    long = pl.concat(
        [weeks.select("week", pl.lit(who).alias("who"), pl.col(column).cast(pl.Float64).alias("value"))
         for who, column in sides.items()]
    ).with_columns(label=pl.col("value").map_elements(words, return_dtype=pl.String))
    colour = alt.Color("who:N", scale=alt.Scale(domain=["agent", "human"], range=[COLOURS["agent"], COLOURS["human"]]),
                       title=None)
    base = alt.Chart(long).encode(
        x=alt.X("week:O", title="ISO week", axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("who:N", sort=["agent", "human"]),
        y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=True), axis=alt.Axis(format=number)),
        tooltip=["week:O", "who:N", "label:N"],
    )
    bars = base.mark_bar().encode(color=colour)
    labels = base.mark_text(dy=-6, fontSize=10, color="#333").encode(text="label:N")
    return (bars + labels).properties(width=WIDTH, height=HEIGHT * 0.75)


def _limit(limit: float) -> str:
    """A charter limit as written on the charts: one decimal (5.0%), more only for a limit below 0.1%."""
    return pct(limit, digits=1) if limit >= 0.001 else pct(limit)
