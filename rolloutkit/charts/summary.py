"""Charts for the summary page."""

from __future__ import annotations

import altair as alt
import polars as pl

from rolloutkit.charts.base import HEIGHT, WIDTH, titled

__all__ = ["summary_interactions_per_day"]


def summary_interactions_per_day(daily: pl.DataFrame) -> alt.TopLevelMixin:
    """Interactions per day by source (from `memo.interactions_per_day`): gaps show missing data at a glance."""
    last = daily["day"].max() if daily.height else None
    chart = alt.Chart(daily).mark_bar().encode(
        x=alt.X("yearmonthdate(day):T", title=None, axis=alt.Axis(format="%Y-%m-%d", labelOverlap=True)),
        y=alt.Y("interactions:Q", title="interactions per day", stack=True),
        color=alt.Color("source:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("yearmonthdate(day):T", title="day", format="%Y-%m-%d"), "source:N",
                 alt.Tooltip("interactions:Q", format=",")],
    ).properties(width=WIDTH, height=HEIGHT)
    return titled(chart, "Interactions per day", f"last day with data: {last}" if last else "no data yet")
