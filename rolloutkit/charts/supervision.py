"""Charts for supervision at 100%. Inputs are the parts of `rolloutkit.supervision.page` (weekly counts, the incident
log without its text, measured drills); each title states the finding, empty input gives a chart that says there is
no data, and a `Missing` part is passed through as its note."""

from __future__ import annotations

import altair as alt
import polars as pl

from rolloutkit.charts.base import COLOURS, HEIGHT, WIDTH, no_data, passes_missing, threshold_rule, titled
from rolloutkit.supervision import TARGET_SECONDS
from rolloutkit.text import duration, pct, plural

__all__ = ["supervision_caught_at_stage", "supervision_drill_practice", "supervision_drills",
           "supervision_human_path", "supervision_incidents", "supervision_rates", "supervision_sample_rate"]

SEVERITIES = ["sev1", "sev2", "sev3", "sev4"]
SEVERITY_COLOURS = ["#7f1d1d", "#b3261e", "#e07a5f", "#f2cc8f"]
WHEN_COLOURS = {"before 100%": "#3d5a80", "at 100%": "#98c1d9"}
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
    x = alt.X("week:T", title=None, axis=alt.Axis(format="%Y-%m-%d"))
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
        x=alt.X("day:T", title="opened", axis=alt.Axis(format="%Y-%m-%d")),
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


@passes_missing
def supervision_human_path(path: pl.DataFrame) -> alt.TopLevelMixin:
    """Human-arm interactions per day since 100%, the charter's minimum drawn across (none when it is 0)."""
    if path.is_empty():
        return no_data("Human-only path", "no day at 100% with canary traffic yet")
    minimum = int(path["minimum"][0])
    data = path.with_columns(state=pl.when(pl.col("below")).then(pl.lit("below minimum"))
                             .otherwise(pl.lit("at or above")))
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(format="%Y-%m-%d", labelAngle=-30)),
        y=alt.Y("human:Q", title="human interactions a day", scale=alt.Scale(zero=True)),
        color=alt.Color("state:N", title=None, scale=alt.Scale(domain=["at or above", "below minimum"],
                                                               range=[COLOURS["human"], COLOURS["hold"]])),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), "human:Q", "agent:Q", "minimum:Q"])
    below = int(path["below"].sum())
    mean = f"{path['human'].mean():,.0f} human interactions a day on average since 100%"
    if not minimum:
        return titled(bars.properties(width=WIDTH, height=HEIGHT),
                      "The charter sets no minimum for the human-only path", mean)
    recent = path.tail(7)
    title = (f"The human-only path fell below {minimum:,} a day on {int(recent['below'].sum())} of the last "
             f"{plural(recent.height, 'day')}" if recent["below"].any()
             else f"The human-only path stayed at {minimum:,} a day or more over the last "
                  f"{plural(recent.height, 'day')}")
    rule = threshold_rule(minimum, f"minimum {minimum:,} a day")
    return titled((bars + rule).properties(width=WIDTH, height=HEIGHT), title,
                  f"{mean}; {below} of {plural(path.height, 'day')} below the charter's minimum "
                  "(human_path.min_daily_interactions)")


@passes_missing
def supervision_drill_practice(drills: pl.DataFrame, *,
                               target_seconds: float = TARGET_SECONDS) -> alt.TopLevelMixin:
    """Every rollback drill by day, coloured by whether it came before the flag first reached 100%; seconds to
    0% where measured, the target drawn across."""
    if drills.is_empty():
        return no_data("Rollback drills practised", "no rollback drill in the flag history")
    data = drills.with_columns(when_day=pl.col("day").cast(pl.String),
                               seconds=pl.col("seconds_to_zero").fill_null(0.0),
                               time=pl.col("seconds_to_zero").map_elements(duration, return_dtype=pl.String))
    bars = alt.Chart(data).mark_bar(size=24).encode(
        x=alt.X("when_day:O", title="drill day", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("seconds:Q", title="seconds to 0% (0 when not timed)", scale=alt.Scale(zero=True)),
        color=alt.Color("when:N", title=None, scale=alt.Scale(domain=list(WHEN_COLOURS),
                                                              range=list(WHEN_COLOURS.values()))),
        tooltip=["when_day:N", "when:N", "stage:N", "actor:N", alt.Tooltip("time:N", title="to 0%")])
    rule = threshold_rule(target_seconds, f"target {duration(target_seconds)}")
    before = drills.filter(pl.col("when") == "before 100%")
    at_full = drills.height - before.height
    if before.is_empty():
        title = f"No rollback drill before 100%; {plural(at_full, 'drill')} since"
    else:
        title = (f"{plural(before.height, 'rollback drill')} practised before 100% "
                 f"(at {', '.join(before['stage'].unique(maintain_order=True).to_list())}), {at_full} since")
    return titled((bars + rule).properties(width=WIDTH, height=200), title,
                  "the playbook practises rollback during the canary, not for the first time at 100%")


@passes_missing
def supervision_caught_at_stage(counts: pl.DataFrame) -> alt.TopLevelMixin:
    """Incidents by the ladder stage in force when they opened, stacked by severity: catch issues at 1%, not at
    100%."""
    total = int(counts["incidents"].sum()) if counts.height else 0
    if not total:
        return no_data("Where incidents were caught on the ladder", "no incidents logged")
    order = counts["stage"].unique(maintain_order=True).to_list()
    bars = alt.Chart(counts.filter(pl.col("incidents") > 0)).mark_bar().encode(
        x=alt.X("stage:N", sort=order, scale=alt.Scale(domain=order), title="stage when the incident opened",
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("incidents:Q", title="incidents", scale=alt.Scale(zero=True), axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("severity:N", scale=alt.Scale(domain=SEVERITIES, range=SEVERITY_COLOURS)),
        order=alt.Order("severity:N"),
        tooltip=["stage:N", "severity:N", "incidents:Q"])
    per_stage = counts.group_by("stage_share", "stage", maintain_order=True).agg(pl.col("incidents").sum())
    full = int(per_stage.filter(pl.col("stage_share") >= 1.0)["incidents"].sum())
    ladder = per_stage.filter(pl.col("stage_share") > 0)
    first = ladder.row(0, named=True) if ladder.height else None
    at_first = f", {first['incidents']} at the first stage ({first['stage']})" if first else ""
    return titled(bars.properties(width=WIDTH, height=HEIGHT),
                  f"{full} of {plural(total, 'incident')} were caught at 100%{at_first}",
                  "the stage the flag routed to the agent when each incident opened; the ladder exists to catch "
                  "issues at the first stage, not at 100%")
