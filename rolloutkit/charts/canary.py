"""Charts for the canary phase: decision history, failure-rate bounds, success gap, guardrails, traffic share.

Each builder takes one of `rolloutkit.canary`'s aggregated frames (never rows), e.g. a part of `canary.page(ws)`,
and returns a chart whose title states the finding and whose threshold is drawn; a `Missing` part is returned as
is, so the notebook shows its note.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from rolloutkit.charts.base import COLOURS, HEIGHT, WIDTH, no_data, passes_missing, threshold_rule, titled
from rolloutkit.text import pct, plural, stage

__all__ = ["canary_decision_history", "canary_failure_bounds", "canary_guardrails", "canary_success_gap",
           "canary_traffic_share"]

_DECISIONS = ["expand", "hold", "rollback"]
_DAY = alt.X("day:T", title=None, axis=alt.Axis(format="%Y-%m-%d", labelAngle=-30))
_NO_TRAFFIC = "no canary traffic yet"


def _history_title(history: pl.DataFrame) -> str:
    rollbacks = history.filter(pl.col("decision") == "rollback")
    last = history.row(-1, named=True)
    if rollbacks.height:
        first = rollbacks.row(0, named=True)
        return f"Rollback first called on {first['day']:%Y-%m-%d} at {stage(first['stage'])} ({first['driver_label']})"
    if last["decision"] == "expand":
        return f"Ready to expand from {stage(last['stage'])} as of {last['day']:%Y-%m-%d}"
    if last["stage"] == 0:
        return f"The agent is at 0% as of {last['day']:%Y-%m-%d}"
    if last["stage"] >= 1:
        return f"At 100% as of {last['day']:%Y-%m-%d}: the rollout is complete and supervision applies"
    return f"Holding at {stage(last['stage'])}: {last['driver_label'].lower()} not yet passed"


@passes_missing
def canary_decision_history(history: pl.DataFrame, incidents: pl.DataFrame | None = None) -> alt.TopLevelMixin:
    """The decision each day would have given, on the stage ladder, with stage changes and incidents marked.

    `history` is `canary.decision_history(...)`, `incidents` is `canary.incidents(...)` (optional).
    """
    title = "Decision history"
    if history.is_empty():
        return no_data(title, _NO_TRAFFIC)
    scale = alt.Scale(domain=_DECISIONS, range=[COLOURS[d] for d in _DECISIONS])
    base = alt.Chart(history).encode(x=_DAY)
    stage_axis = alt.Y("stage:Q", title="share routed to the agent", axis=alt.Axis(format="%"),
                       scale=alt.Scale(domain=[0, 1]))
    line = base.mark_line(interpolate="step-after", color=COLOURS["muted"]).encode(y=stage_axis)
    points = base.mark_point(filled=True, size=90, opacity=1).encode(
        y=stage_axis, color=alt.Color("decision:N", scale=scale, title="decision that day"),
        shape=alt.Shape("decision:N", scale=alt.Scale(domain=_DECISIONS, range=["triangle-up", "circle",
                                                                                 "triangle-down"]),
                        title="decision that day"),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), alt.Tooltip("stage:Q", format=".0%"),
                 "days_at_stage:Q", "decision:N", "driver:N", "reason:N"])
    changes = (alt.Chart(history.filter(pl.col("stage_change").is_not_null()))
               .mark_rule(color="#333", strokeDash=[2, 3]).encode(x="day:T", tooltip=[
                   alt.Tooltip("day:T", format="%Y-%m-%d"), alt.Tooltip("stage_change:N", title="flag change"),
                   alt.Tooltip("stage:Q", format=".0%", title="new stage")]))
    layers = [changes, line, points]
    subtitle = "Dots: the decision each day; dashed lines: flag changes"
    if incidents is not None and incidents.height:
        layers += _incident_marks(incidents)
        subtitle += "; diamonds (top): incidents opened, with id and severity (red: sev1/sev2)"
    return titled(alt.layer(*layers).properties(width=WIDTH, height=HEIGHT), _history_title(history), subtitle)


def _incident_marks(incidents: pl.DataFrame) -> list[alt.Chart]:
    """Each incident as a diamond at the top of the chart labelled "INC-0003 sev3", in up to three rows so that
    incidents days apart do not overprint; sev1/sev2 (those that hold a stage) in red."""
    marks = incidents.sort("day", "incident_id").with_columns(
        label=pl.col("incident_id") + " " + pl.col("severity"),
        y=(8 + 14 * (pl.int_range(pl.len()) % 3)).cast(pl.Float64),
        blocking=pl.col("severity").is_in(["sev1", "sev2"]))
    colour = alt.condition("datum.blocking", alt.value(COLOURS["rollback"]), alt.value("#5a189a"))
    tooltip = [alt.Tooltip("day:T", format="%Y-%m-%d"), "incident_id:N", "severity:N", "kind:N"]
    base = alt.Chart(marks).encode(x="day:T", y=alt.Y("y:Q", scale=None), color=colour, tooltip=tooltip)
    return [base.mark_point(shape="diamond", size=70, filled=True, opacity=1),
            base.mark_text(align="left", dx=7, fontSize=10, baseline="middle").encode(text="label:N")]


@passes_missing
def canary_failure_bounds(bounds: pl.DataFrame) -> alt.TopLevelMixin:
    """Each failure mode's rate at its stage with the confidence-sequence band, against its limit.

    `bounds` is `canary.failure_bounds(...)`; one panel per failure mode, the band restarting at each stage.
    """
    title = "Failure rates against their limits"
    if bounds.is_empty():
        return no_data(title, _NO_TRAFFIC)
    latest = bounds.filter(pl.col("epoch") == pl.col("epoch").max()).group_by("failure_mode").agg(
        pl.col("lower", "upper", "max_rate").sort_by("day").last())
    above = latest.filter(pl.col("lower") > pl.col("max_rate"))["failure_mode"].to_list()
    open_ = latest.filter(pl.col("upper") >= pl.col("max_rate"))["failure_mode"].to_list()
    if above:
        title = f"{', '.join(above)} above {'its limit' if len(above) == 1 else 'their limits'} at this stage"
    elif open_:
        title = f"Not yet shown below the limit at this stage: {', '.join(open_)}"
    else:
        title = "Every failure mode's upper bound is below its limit at this stage"
    # the first days' bands are very wide: draw them up to 3x the limit (tooltips keep the true bound)
    frame = bounds.with_columns(pl.col("stage").map_elements(stage, return_dtype=pl.String).alias("stage_label"),
                                upper_shown=pl.min_horizontal("upper", 3 * pl.col("max_rate")))
    base = alt.Chart(frame).encode(x=_DAY, detail="epoch:N")
    y = alt.Y("estimate:Q", title="failure rate at the stage", axis=alt.Axis(format="%"), scale=alt.Scale(zero=True))
    band = base.mark_area(opacity=0.25, color=COLOURS["agent"]).encode(y=alt.Y("lower:Q", title=None),
                                                                        y2="upper_shown:Q")
    line = base.mark_line(color=COLOURS["agent"], point=alt.OverlayMarkDef(size=18)).encode(y=y, tooltip=[
        alt.Tooltip("day:T", format="%Y-%m-%d"), alt.Tooltip("stage_label:N", title="stage"),
        "failures:Q", "trials:Q", alt.Tooltip("estimate:Q", format=".3%"), alt.Tooltip("lower:Q", format=".3%"),
        alt.Tooltip("upper:Q", format=".3%"), alt.Tooltip("max_rate:Q", format=".2%", title="limit")])
    limit = alt.Chart(frame).mark_rule(strokeDash=[6, 4], color=COLOURS["threshold"], strokeWidth=1.5).encode(
        y="max(max_rate):Q")
    chart = alt.layer(band, line, limit).properties(width=WIDTH, height=150).facet(
        row=alt.Row("failure_mode:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left",
                                                                     labelFontWeight="bold")),
    ).resolve_scale(y="independent")
    return titled(chart, title, "Shaded: the peeking-safe 95% band, restarting at each stage; red dashes: the limit; "
                  "each axis from 0 to at most 3× its limit (wider early bands are cut there)")


@passes_missing
def canary_success_gap(gap: pl.DataFrame) -> alt.TopLevelMixin:
    """Agent − human success at each stage with its confidence-sequence band, against −margin."""
    title = "Success gap (agent − human)"
    measured = gap.filter(pl.col("lower").is_not_null())
    if measured.is_empty():
        return no_data(title, _NO_TRAFFIC)
    last = measured.row(-1, named=True)
    margin = last["threshold"]
    at = f" at {stage(last['stage'])}"
    if last["upper"] < margin:
        title = f"The agent is worse than humans beyond the {-margin:.1%} margin{at}"
    elif last["lower"] > margin:
        title = f"Non-inferior{at}: the gap's lower bound is above −{-margin:.1%}"
    else:
        title = f"Not yet shown non-inferior{at}: the band still reaches below −{-margin:.1%}"
    # the first days' bands are very wide: draw them within ±5 margins (tooltips keep the true bounds)
    shown = measured.with_columns(lower_shown=pl.max_horizontal("lower", 5 * pl.col("threshold")),
                                  upper_shown=pl.min_horizontal("upper", -5 * pl.col("threshold")))
    span = alt.Scale(domain=[5 * margin, -5 * margin], clamp=True)
    base = alt.Chart(shown).encode(x=_DAY, detail="epoch:N")
    band = base.mark_area(opacity=0.25, color=COLOURS["agent"]).encode(
        y=alt.Y("lower_shown:Q", title=None, scale=span), y2="upper_shown:Q")
    line = base.mark_line(color=COLOURS["agent"], point=alt.OverlayMarkDef(size=18)).encode(
        y=alt.Y("estimate:Q", title="agent − human success", axis=alt.Axis(format="+%"), scale=span),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), alt.Tooltip("stage:Q", format=".0%"),
                 alt.Tooltip("agent_rate:Q", format=".2%"), alt.Tooltip("human_rate:Q", format=".2%"),
                 alt.Tooltip("estimate:Q", format="+.2%"), alt.Tooltip("lower:Q", format="+.2%"),
                 alt.Tooltip("upper:Q", format="+.2%")])
    zero = alt.Chart(pl.DataFrame({"y": [0.0]})).mark_rule(color="#999").encode(y="y:Q")
    chart = alt.layer(band, zero, line, threshold_rule(margin, f"−margin ({margin:+.1%})"))
    return titled(chart.properties(width=WIDTH, height=HEIGHT), title,
                  "Shaded: the peeking-safe 95% band at each stage; red dashes: the non-inferiority margin; axis "
                  f"fixed from {pct(5 * margin)} to +{pct(-5 * margin)} (5 margins each way)")


@passes_missing
def canary_guardrails(breaches: pl.DataFrame) -> alt.TopLevelMixin:
    """Guardrail breaches per day by kind; any breach holds the stage."""
    if breaches.is_empty():
        return no_data("Guardrail breaches per day", _NO_TRAFFIC)
    total = int(breaches["breaches"].sum())
    days = breaches.filter(pl.col("breaches") > 0)["day"].n_unique()
    title = ("No guardrail breach during the canary" if total == 0
             else f"{plural(total, 'guardrail breach', 'guardrail breaches')} on {plural(days, 'day')}")
    bars = alt.Chart(breaches).mark_bar(size=8).encode(
        x=_DAY, y=alt.Y("sum(breaches):Q", title="agent breaches", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("kind:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), "kind:N", "breaches:Q",
                 alt.Tooltip("stage:Q", format=".0%")])
    chart = alt.layer(bars, threshold_rule(0.5, "any breach holds the stage"))
    return titled(chart.properties(width=WIDTH, height=180), title)


@passes_missing
def canary_traffic_share(share: pl.DataFrame) -> alt.TopLevelMixin:
    """The agent's observed share of traffic each day against the flag (99.9% bands, the SRM test's level)."""
    if share.is_empty():
        return no_data("Traffic share: observed vs flag", _NO_TRAFFIC)
    off = share.filter((pl.col("flag_share") < pl.col("lower")) | (pl.col("flag_share") > pl.col("upper")))
    title = ("The observed split matches the flag every day" if off.is_empty()
             else f"The observed split misses the flag on {plural(off.height, 'day')}")
    base = alt.Chart(share).encode(x=_DAY)
    y = alt.Y("observed_share:Q", title="share of traffic to the agent", axis=alt.Axis(format="%"),
              scale=alt.Scale(zero=True))
    flag = base.mark_line(interpolate="step-after", color=COLOURS["threshold"], strokeDash=[6, 4]).encode(
        y=alt.Y("flag_share:Q"))
    bars = base.mark_errorbar(color=COLOURS["agent"]).encode(y=alt.Y("lower:Q", title=None), y2="upper:Q")
    points = base.mark_point(filled=True, color=COLOURS["agent"], size=30).encode(y=y, tooltip=[
        alt.Tooltip("day:T", format="%Y-%m-%d"), "agent:Q", "total:Q",
        alt.Tooltip("observed_share:Q", format=".2%"), alt.Tooltip("flag_share:Q", format=".2%", title="flag"),
        alt.Tooltip("lower:Q", format=".2%"), alt.Tooltip("upper:Q", format=".2%")])
    return titled(alt.layer(flag, bars, points).properties(width=WIDTH, height=HEIGHT), title,
                  "Dots: observed share with its 99.9% band; red dashes: the share the flag asked for; axis from 0")
