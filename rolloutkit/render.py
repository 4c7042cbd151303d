"""Offline rendering: charts as static SVG and the small HTML pieces notebooks show.

Why SVG: the weekly HTML must draw with the network off and stay small. nbconvert's default templates and altair's
default renderers load vega and require.js from CDNs, altair's `inline` template breaks with a second chart on a
page, and its v6 mimetype output makes papermill runs fail. vl-convert renders each chart to SVG in the kernel, so a
page carries no script at all and every chart draws in any browser, offline, exactly as in JupyterLab.
"""

from __future__ import annotations

import html

import altair as alt
import polars as pl
import vl_convert as vlc
from IPython.display import HTML

STATUS_COLOURS = {
    "good": "#1b7f3b", "warn": "#b26a00", "bad": "#b3261e", "info": "#3d5a80", "missing": "#6b6b6b",
    "error": "#b3261e",
}
_RENDERER = "rolloutkit_svg"


def _svg_renderer(spec: dict, **_: object) -> dict[str, str]:
    return {"image/svg+xml": vlc.vegalite_to_svg(spec)}


def setup() -> None:
    """Make altair draw static SVG and polars print readable tables; call once at the top of a notebook."""
    if _RENDERER not in alt.renderers.names():
        alt.renderers.register(_RENDERER, _svg_renderer)
    alt.renderers.enable(_RENDERER)
    pl.Config.set_tbl_rows(30)
    pl.Config.set_tbl_hide_dataframe_shape(True)
    pl.Config.set_fmt_str_lengths(80)


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an SVG document (for tests and for pages built outside a notebook)."""
    return vlc.vegalite_to_svg(chart.to_dict())


def banner(status: str, title: str, text: str) -> HTML:
    """A coloured decision box: the first thing a stakeholder reads on a page."""
    colour = STATUS_COLOURS.get(status, STATUS_COLOURS["info"])
    return HTML(
        f'<div style="border-left:6px solid {colour};background:{colour}14;padding:10px 14px;margin:8px 0;'
        f'border-radius:4px;font-family:system-ui,sans-serif">'
        f'<div style="font-size:1.25em;font-weight:600;color:{colour}">{html.escape(title)}</div>'
        f'<div style="margin-top:4px">{html.escape(text)}</div></div>'
    )


def bullet_list(lines: list[str]) -> HTML:
    """Plain-words reasons as a list."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return HTML(f"<ul style='font-family:system-ui,sans-serif'>{items}</ul>")


def note(text: str) -> HTML:
    """A muted one-line note, e.g. for a table that is missing."""
    return HTML(f"<p style='color:#555;font-style:italic'>{html.escape(text)}</p>")
