"""Shared look of every chart: sizes, colours, the threshold rule and the 'today' marker."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import altair as alt
import polars as pl

from rolloutkit.page import Missing

P = ParamSpec("P")
R = TypeVar("R")

WIDTH = 640
HEIGHT = 240
COLOURS = {"agent": "#3d5a80", "human": "#98c1d9", "threshold": "#b3261e", "pass": "#1b7f3b",
           "hold": "#b26a00", "rollback": "#b3261e", "expand": "#1b7f3b", "muted": "#8d99ae"}


def threshold_rule(value: float, label: str, *, axis: str = "y", colour: str = COLOURS["threshold"]) -> alt.Chart:
    """A dashed line at `value` with a text label, to lay over a chart so the limit is always visible."""
    frame = pl.DataFrame({"value": [value], "label": [label]})
    encode = {axis: alt.Y("value:Q") if axis == "y" else alt.X("value:Q")}
    rule = alt.Chart(frame).mark_rule(strokeDash=[6, 4], color=colour, strokeWidth=1.5).encode(**encode)
    text = alt.Chart(frame).mark_text(align="left", dx=4, dy=-6, color=colour, fontSize=11).encode(
        **encode, text="label:N")
    return rule + text


def today_rule(day: object, label: str = "today") -> alt.Chart:
    """A vertical line at a date."""
    frame = pl.DataFrame({"day": [day], "label": [label]})
    rule = alt.Chart(frame).mark_rule(color="#333", strokeDash=[2, 2]).encode(x="day:T")
    text = alt.Chart(frame).mark_text(align="left", dx=3, dy=-4, baseline="bottom", fontSize=10).encode(
        x="day:T", y=alt.value(0), text="label:N")
    return rule + text


def titled(chart: alt.TopLevelMixin, title: str, subtitle: str | None = None) -> alt.TopLevelMixin:
    """Give a chart a title that states the finding, and the common size/config."""
    params = {"text": title, "anchor": "start", "fontSize": 14}
    if subtitle:
        params["subtitle"] = subtitle
    return chart.properties(title=alt.TitleParams(**params)).configure_view(stroke=None).configure_axis(
        labelFontSize=11, titleFontSize=12)


def no_data(title: str, why: str) -> alt.TopLevelMixin:
    """A titled placeholder chart for an empty frame: says why there is nothing to draw."""
    frame = pl.DataFrame({"text": [why]})
    chart = alt.Chart(frame).mark_text(fontSize=13, color=COLOURS["muted"]).encode(text="text:N")
    return titled(chart.properties(width=WIDTH, height=60), title)


def passes_missing(build: Callable[P, R]) -> Callable[P, R | Missing]:
    """Let a chart builder take a page's `Missing` parts: the first `Missing` argument is returned as is (it
    shows as a note), so a notebook cell never needs a conditional."""

    @functools.wraps(build)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Missing:
        for value in (*args, *kwargs.values()):
            if isinstance(value, Missing):
                return value
        return build(*args, **kwargs)

    return wrapper
