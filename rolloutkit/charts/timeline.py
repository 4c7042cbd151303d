"""Charts for the timeline phase: the plan as a Gantt chart, the evidence per stage, and the what-if heatmap."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from rolloutkit.charts.base import COLOURS, WIDTH, passes_missing, threshold_rule, titled, today_rule
from rolloutkit.text import stage
from rolloutkit.timeline import TYPICAL_WEEKS, Plan, Progress

__all__ = ["timeline_evidence", "timeline_gantt", "timeline_what_if"]

_KIND_COLOURS = {"setup": COLOURS["muted"], "shadow": COLOURS["human"], "canary": COLOURS["agent"],
                 "supervision": "#c9d6e3"}
_WEEKS_CAP = 26


@passes_missing
def timeline_gantt(plan: Plan, *, today: dt.date | None = None, progress: Progress | None = None) -> alt.Chart:
    """The plan following what happened as bars (actual dates for the phases that ran, lighter for those to come),
    the plan made at the start as a dark line under each bar, the typical 6–12-week band and today; `progress`
    puts ahead or behind in the title."""
    table = plan.table().with_columns(
        label=pl.when(pl.col("counted")).then(pl.col("phase")).otherwise(pl.lit("100% supervised (not counted)")),
        days_text=pl.when(pl.col("status") == "skipped").then(pl.lit("skipped"))
        .otherwise(pl.format("{} d", pl.col("days"))),
        opacity=pl.when(pl.col("status") == "planned").then(0.5).otherwise(1.0))
    order = table["label"].to_list()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=220))
    tooltip = [alt.Tooltip("phase:N"), alt.Tooltip("status:N"), alt.Tooltip("start:T", format="%Y-%m-%d"),
               alt.Tooltip("end:T", format="%Y-%m-%d", title="end (next phase starts)"), alt.Tooltip("days:Q"),
               alt.Tooltip("why:N")]
    kinds = list(_KIND_COLOURS)
    x = alt.X("start:T", title=None, axis=alt.Axis(format="%Y-%m-%d", labelAngle=0, tickCount=6))
    bars = alt.Chart(table).mark_bar(height=16, cornerRadius=2).encode(
        x=x, x2="end:T", y=y, opacity=alt.Opacity("opacity:Q", scale=None, legend=None),
        color=alt.Color("kind:N", scale=alt.Scale(domain=kinds, range=[_KIND_COLOURS[k] for k in kinds]),
                        legend=alt.Legend(title=None, orient="bottom")),
        tooltip=tooltip)
    text = alt.Chart(table).mark_text(align="left", dx=4, fontSize=10, color="#333").encode(
        x="end:T", y=y, text="days_text:N")
    low, high = TYPICAL_WEEKS
    band = pl.DataFrame({"from": [plan.start + dt.timedelta(weeks=low)], "to": [plan.start + dt.timedelta(weeks=high)],
                         "label": [f"typical {low}–{high} weeks"]})
    band_layer = alt.Chart(band).mark_rect(color=COLOURS["pass"], opacity=0.08).encode(x="from:T", x2="to:T")
    height = 28 * len(order)
    band_text = alt.Chart(band).mark_text(align="right", dx=-3, dy=-3, baseline="bottom", color=COLOURS["pass"],
                                          fontSize=10).encode(x="to:T", y=alt.value(height), text="label:N")
    hundred = pl.DataFrame({"day": [plan.hundred_percent], "label": [f"100% {plan.hundred_percent:%Y-%m-%d}"]})
    target = alt.Chart(hundred).mark_rule(color=COLOURS["threshold"], strokeWidth=1.5).encode(x="day:T")
    layers = [band_layer, band_text, bars, text, target]
    if plan.baseline is not None:
        at_start = plan.baseline.table().filter(pl.col("counted"), pl.col("days") > 0).with_columns(
            label=pl.col("phase"))
        layers.append(alt.Chart(at_start).mark_bar(height=4, yOffset=11, color="#222").encode(
            x="start:T", x2="end:T", y=y,
            tooltip=[alt.Tooltip("phase:N"), alt.Tooltip("start:T", format="%Y-%m-%d", title="planned start"),
                     alt.Tooltip("end:T", format="%Y-%m-%d", title="planned end"), alt.Tooltip("days:Q")]))
    if today is not None:
        layers.append(today_rule(today))
    chart = alt.layer(*layers).properties(width=WIDTH, height=height)
    subtitle = ("Bars: what happened and what is planned from now (lighter: still to come; end = the day the next "
                "starts); dark lines below: the plan made at the start; shaded: typical band")
    verb = "reached" if plan.reached_100 else "planned"
    title = f"100% {verb} on {plan.hundred_percent:%Y-%m-%d}: {plan.total_weeks} weeks, {plan.range_text}"
    if progress is not None and progress.started:
        title += f"; {progress.slip_text} (the plan at the start said {progress.planned_100:%Y-%m-%d})"
    return titled(chart, title, subtitle)


@passes_missing
def timeline_evidence(plan: Plan) -> alt.Chart:
    """Days of traffic each check needs at each canary stage, against the bake minimum and the maximum hold."""
    frame = plan.evidence_table().with_columns(
        check=pl.col("check").str.replace("failure_rate:", "failure rate: ").str.replace("_", " ", literal=True),
        shown=pl.col("days").fill_null(plan.max_hold_days * 2).clip(0, plan.max_hold_days * 2),
        days_text=pl.col("days").cast(pl.String).fill_null("never"))
    stages = frame["stage"].unique(maintain_order=True).to_list()
    bars = alt.Chart(frame).mark_bar(height=10).encode(
        y=alt.Y("stage:N", sort=stages, title=None), yOffset=alt.YOffset("check:N"),
        x=alt.X("shown:Q", title="days of traffic needed at the stage"),
        color=alt.Color("check:N", legend=alt.Legend(title=None, orient="bottom")),
        tooltip=[alt.Tooltip("stage:N"), alt.Tooltip("check:N"), alt.Tooltip("limit:Q", format=".3~%"),
                 alt.Tooltip("expected:Q", format=".3~%"), alt.Tooltip("trials:Q", format=","),
                 alt.Tooltip("days_text:N", title="days")])
    chart = alt.layer(bars, threshold_rule(plan.min_hold_days, f"bake minimum {plan.min_hold_days} d", axis="x",
                                           colour=COLOURS["pass"]),
                      threshold_rule(plan.max_hold_days, f"maximum hold {plan.max_hold_days} d", axis="x")
                      ).properties(width=WIDTH, height=44 * max(len(stages), 1))
    slow = frame.filter(pl.col("days").is_null() | (pl.col("days") > plan.min_hold_days)).sort(
        pl.col("days").fill_null(10**9), descending=True)
    if slow.height:
        top = slow.row(0, named=True)
        title = (f"{top['stage']} never gathers its evidence ({top['check']})" if top["days"] is None else
                 f"{top['stage']} is the slowest stage: {top['days']} days for {top['check']}")
    else:
        title = f"Every stage gathers its evidence within the {plan.min_hold_days}-day bake minimum"
    return titled(chart, title, "Days until each check's confidence sequence passes at the expected rates")


@passes_missing
def timeline_what_if(grid: pl.DataFrame, *, max_hold_days: int = 14) -> alt.Chart:
    """Total weeks to 100% per daily volume × first-stage share, one panel per risk tier, outside 6–12 marked, and
    the current setup (the grid's `current` row: the charter's traffic, risk tier and first stage) outlined."""
    frame = grid.with_columns(
        weeks=pl.col("total_weeks").clip(0, _WEEKS_CAP),
        share=pl.col("first_share").replace_strict({s: stage(s) for s in grid["first_share"].unique()},
                                                   return_dtype=pl.String),
        volume=pl.col("daily_interactions"),
        text=pl.when(~pl.col("feasible")).then(pl.lit("never"))
        .when(pl.col("total_weeks") > _WEEKS_CAP).then(pl.lit(f">{_WEEKS_CAP}"))
        .otherwise(pl.col("total_weeks").round(1).cast(pl.String))
        + pl.when(pl.col("first_stage_days") > max_hold_days).then(pl.lit("*")).otherwise(pl.lit("")),
        band=pl.when(pl.col("within_typical_range")).then(pl.lit("within 6–12 weeks"))
        .otherwise(pl.lit("outside 6–12 weeks")))
    shares = frame.sort("first_share")["share"].unique(maintain_order=True).to_list()
    base = alt.Chart().encode(
        x=alt.X("volume:O", title="interactions a day"), y=alt.Y("share:N", sort=shares, title="first stage"))
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("weeks:Q", scale=alt.Scale(scheme="blues", domain=[0, _WEEKS_CAP]),
                        legend=alt.Legend(title="weeks to 100%")),
        tooltip=[alt.Tooltip("daily_interactions:Q", format=","), alt.Tooltip("risk_tier:N"),
                 alt.Tooltip("share:N", title="first share"), alt.Tooltip("total_weeks:Q"),
                 alt.Tooltip("first_stage_days:Q"), alt.Tooltip("slowest_stage:N"), alt.Tooltip("band:N")])
    outside = base.transform_filter(alt.datum.band == "outside 6–12 weeks").mark_rect(
        fill=None, stroke=COLOURS["threshold"], strokeWidth=2)
    current = base.transform_filter(alt.datum.current).mark_rect(fill=None, stroke="#111", strokeWidth=3.5)
    labels = base.mark_text(fontSize=10).encode(
        text="text:N", color=alt.condition(alt.datum.weeks > _WEEKS_CAP / 2, alt.value("white"), alt.value("#222")))
    tiers = [t for t in ("low", "moderate", "high") if t in set(frame["risk_tier"].to_list())]
    chart = alt.layer(cells, outside, current, labels, data=frame).properties(
        width=min(WIDTH // max(len(tiers), 1), 240), height=30 * len(shares)).facet(
        column=alt.Column("risk_tier:N", sort=tiers, title=None))
    marked = "".join(f"; black outline: the current setup ({r['daily_interactions']:,} a day, {r['risk_tier']} "
                     f"risk, first stage {stage(r['first_share'])})" for r in grid.filter(pl.col("current")).rows(
                         named=True))
    subtitle = (f"Red outline: outside the typical 6–12 weeks{marked}; * the first stage needs more than "
                f"{max_hold_days} days")
    return titled(chart, _what_if_finding(grid, max_hold_days), subtitle)


def _what_if_finding(grid: pl.DataFrame, max_hold_days: int) -> str:
    stuck = grid.filter(pl.col("first_stage_days") > max_hold_days)
    if stuck.height:
        worst = stuck.sort("daily_interactions", "first_share", descending=[True, True]).row(0, named=True)
        return (f"At {worst['daily_interactions']:,} interactions a day a {stage(worst['first_share'])} first stage "
                f"cannot gather its evidence within {max_hold_days} days")
    fastest = grid.sort("total_weeks").row(0, named=True)
    return (f"Every first stage fits within {max_hold_days} days; fastest: {fastest['total_weeks']} weeks at "
            f"{fastest['daily_interactions']:,} a day ({fastest['risk_tier']} risk)")
