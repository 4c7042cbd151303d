"""Charts for supervision at 100%. Inputs are the parts of `rolloutkit.supervision.page` (weekly counts, the incident
log without its text, measured drills); each title states the finding, empty input gives a chart that says there is
no data, and a `Missing` part is passed through as its note."""

from __future__ import annotations

import altair as alt
import polars as pl

from rolloutkit.charts.base import COLOURS, HEIGHT, WIDTH, no_data, passes_missing, threshold_rule, titled
from rolloutkit.supervision import TARGET_SECONDS
from rolloutkit.text import pct, plural

__all__ = ["supervision_drills", "supervision_incidents", "supervision_rates", "supervision_sample_rate"]

SEVERITIES = ["sev1", "sev2", "sev3", "sev4"]
CAUGHT_BY = {"review_sample": "#3d5a80", "customer": "#b3261e", "monitoring": "#98c1d9", "unknown": "#8d99ae"}
STATUS_COLOURS = {"alert": COLOURS["rollback"], "watching": COLOURS["hold"], "within": COLOURS["pass"]}


@passes_missing
def supervision_sample_rate(sample: pl.DataFrame) -> alt.TopLevelMixin:
    """Reviewed share of agent interactions per ISO week, the charter's target drawn across."""
    if sample.is_empty():
        return no_data("Review sample rate", "not at 100% yet: no supervision weeks")
    target = float(sample["target"][0])
    short = sample.filter(~pl.col("reached"))
    data = sample.with_columns(state=pl.when(pl.col("reached")).then(pl.lit("reached")).otherwise(pl.lit("short")))
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("week_label:O", title="ISO week", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("sample_rate:Q", axis=alt.Axis(format="%"), title="agent outputs reviewed"),
        color=alt.Color("state:N", title=None, scale=alt.Scale(domain=["reached", "short"],
                                                               range=[COLOURS["agent"], COLOURS["hold"]])),
        tooltip=["week_label:N", "days:Q", "interactions:Q", "reviewed:Q",
                 alt.Tooltip("sample_rate:Q", format=".2%")])
    rule = threshold_rule(target, f"target {pct(target)}")
    overall = sample["reviewed"].sum() / max(sample["interactions"].sum(), 1)
    title = (f"Every week reached the {pct(target)} review target" if short.is_empty()
             else f"{short.height} of {plural(sample.height, 'week')} fell short of the {pct(target)} review target")
    return titled((bars + rule).properties(width=WIDTH, height=HEIGHT), title,
                  f"{pct(overall, digits=1)} of agent outputs reviewed since 100%; a week is short below 90% of the "
                  "target")


@passes_missing
def supervision_rates(rates: pl.DataFrame, markers: pl.DataFrame | None = None) -> alt.TopLevelMixin:
    """One panel per metric (agent_worse, then each failure mode): weekly rate with its Wilson interval, the
    cumulative rate inside its confidence-sequence band, the charter limit, and incidents as ticks at the bottom."""
    if rates.is_empty():
        return no_data("Reviewed agent_worse and failure-mode rates", "not at 100% yet: no supervision reviews")
    if markers is not None:
        markers = markers.filter(pl.col("day") >= rates["week"].min())
    panels = [_rate_panel(rates.filter(pl.col("metric") == metric), metric, markers)
              for metric in rates["metric"].unique(maintain_order=True)]
    latest = rates.filter(pl.col("week") == rates["week"].max())
    alerting = latest.filter(pl.col("status") == "alert")["metric"].to_list()
    watching = latest.filter(pl.col("status") == "watching")["metric"].to_list()
    if alerting:
        title = f"Alert: {', '.join(alerting)} above the charter limit in the reviewed sample"
    elif watching:
        title = f"Nothing proven above its limit; {', '.join(watching)} not yet shown to be below it"
    else:
        title = "Every reviewed rate is shown to be within its charter limit"
    return titled(alt.vconcat(*panels, spacing=18), title,
                  "dots: weekly rate with 95% Wilson interval; band: 95% confidence sequence on everything reviewed "
                  "since 100% (valid at every weekly look); dashed: charter limit")


def _rate_panel(data: pl.DataFrame, metric: str, markers: pl.DataFrame | None) -> alt.LayerChart:
    row = data.sort("week").row(-1, named=True)
    colour = STATUS_COLOURS[row["status"]]
    base = alt.Chart(data)
    x = alt.X("week:T", title=None, axis=alt.Axis(format="%b %d"))
    tooltip = ["week_label:N", "reviewed:Q", "events:Q", alt.Tooltip("rate:Q", format=".2%"),
               alt.Tooltip("cum_rate:Q", format=".2%", title="since 100%"),
               alt.Tooltip("cs_lower:Q", format=".2%"), alt.Tooltip("cs_upper:Q", format=".2%"), "status:N"]
    band = base.mark_area(opacity=0.18, color=colour).encode(x=x, y=alt.Y("cs_lower:Q"), y2="cs_upper:Q")
    cumulative = base.mark_line(color=colour, strokeWidth=2).encode(x=x, y="cum_rate:Q")
    whiskers = base.mark_rule(color=COLOURS["muted"]).encode(x=x, y="lower:Q", y2="upper:Q")
    points = base.mark_point(filled=True, color=COLOURS["agent"]).encode(
        x=x, y=alt.Y("rate:Q", axis=alt.Axis(format="%"), title=metric), tooltip=tooltip)
    limit = threshold_rule(row["limit"], f"limit {pct(row['limit'], digits=1)}")
    layers = [band, cumulative, whiskers, points, limit]
    if markers is not None and not markers.is_empty():
        ticks = alt.Chart(markers).mark_tick(color=COLOURS["rollback"], thickness=2, size=10).encode(
            x="day:T", y=alt.value(115), tooltip=["incident_id:N", "day:T", "severity:N", "kind:N"])
        layers.append(ticks)
    label = (f"{metric}: {row['cum_events']} of {row['cum_reviewed']} reviewed ({pct(row['cum_rate'], digits=2)}), "
             f"{row['status']}")
    return alt.layer(*layers).properties(width=WIDTH, height=120, title=alt.TitleParams(
        label, anchor="start", fontSize=12, fontWeight="normal", color=colour))


@passes_missing
def supervision_incidents(log: pl.DataFrame) -> alt.TopLevelMixin:
    """Each incident on the day it opened, by severity; colour says who caught it, diamonds are still open."""
    if log.is_empty():
        return no_data("Incident log", "no incidents logged")
    open_count = log.filter(pl.col("status") == "open").height
    by_sample = log.filter(pl.col("caught_by") == "review_sample").height
    by_customer = log.filter(pl.col("caught_by") == "customer").height
    median = log["hours_to_close"].median()
    points = alt.Chart(log).mark_point(size=140, filled=True, opacity=0.9).encode(
        x=alt.X("day:T", title="opened", axis=alt.Axis(format="%b %d")),
        y=alt.Y("severity:N", sort=SEVERITIES, scale=alt.Scale(domain=SEVERITIES), title=None),
        color=alt.Color("caught_by:N", title="caught by",
                        scale=alt.Scale(domain=list(CAUGHT_BY), range=list(CAUGHT_BY.values()))),
        shape=alt.Shape("status:N", title="status", scale=alt.Scale(domain=["open", "closed"],
                                                                    range=["diamond", "circle"])),
        tooltip=["incident_id:N", "day:T", "severity:N", "kind:N", "failure_mode:N", "caught_by:N", "status:N",
                 alt.Tooltip("hours_to_close:Q", format=".1f"), "age_days:Q"])
    close = "none closed yet" if median is None else f"median {median:.0f} h to close"
    return titled(points.properties(width=WIDTH, height=160),
                  f"{log.height} incidents, {open_count} open; the review sample caught {by_sample}, "
                  f"customers {by_customer}",
                  f"{close}; diamonds are still open")


@passes_missing
def supervision_drills(drills: pl.DataFrame, *, target_seconds: float = TARGET_SECONDS) -> alt.TopLevelMixin:
    """Seconds from the rollback command to 0% per drill, against the target."""
    if drills.is_empty():
        return no_data("Rollback drills", "no rollback has been drilled (no `zero_at` in flags)")
    data = drills.with_columns(when=pl.col("day").cast(pl.String),
                               state=pl.when(pl.col("within_target")).then(pl.lit("within"))
                               .otherwise(pl.lit("over")))
    bars = alt.Chart(data).mark_bar(size=28).encode(
        x=alt.X("when:O", title="drill day", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("seconds_to_zero:Q", title="seconds to 0%"),
        color=alt.Color("state:N", title=None, scale=alt.Scale(domain=["within", "over"],
                                                               range=[COLOURS["pass"], COLOURS["rollback"]])),
        tooltip=["when:N", "kind:N", "actor:N", alt.Tooltip("seconds_to_zero:Q", format=".0f")])
    rule = threshold_rule(target_seconds, f"target {target_seconds:g} s")
    last = drills.row(-1, named=True)
    verdict = "within" if last["within_target"] else "over"
    return titled((bars + rule).properties(width=WIDTH, height=200),
                  f"The last drill ({last['day']}) took {last['seconds_to_zero']:.0f} s to reach 0%, {verdict} the "
                  f"{target_seconds:g} s target",
                  f"{drills['within_target'].sum()} of {drills.height} drills within target")
