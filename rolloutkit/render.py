"""Offline rendering: charts as SVG (and, live in JupyterLab, as interactive Vega-Lite), the small HTML pieces
notebooks show, and the pieces of the report pages.

Why SVG: the weekly HTML must draw with the network off and stay small. nbconvert's default templates and altair's
default renderers load vega and require.js from CDNs, altair's `inline` template breaks with a second chart on a
page, and its v6 mimetype output makes papermill runs fail. vl-convert renders each chart to SVG in the kernel, so a
page carries no script at all and every chart draws in any browser, offline.

One chart, two views: a chart's output holds its SVG and its Vega-Lite spec (`application/vnd.vegalite.v5+json`,
which JupyterLab draws itself, offline, with tooltips and the export menu); nbconvert knows no Vega-Lite, so the
rendered page inlines the SVG. `ROLLOUTKIT_CHARTS=static` (the weekly run) keeps the SVG alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import os
import re
import sys
from pathlib import Path

# altair validates specs with jsonschema, whose optional IRI format checker compiles a Lark grammar when it is
# imported (rfc3987_syntax, which JupyterLab's jupyter-events installs): 1.6 s of every kernel start. Nothing here
# checks IRI formats; marking the module absent before jsonschema first loads skips it.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)

import altair as alt  # noqa: E402
import polars as pl  # noqa: E402
import vl_convert as vlc  # noqa: E402
from IPython.display import HTML  # noqa: E402

from rolloutkit.memo import MemoPage  # noqa: E402
from rolloutkit.page import Headline, Missing  # noqa: E402
from rolloutkit.text import iso_week  # noqa: E402

STATUS_COLOURS = {
    "good": "#1b7f3b", "warn": "#b26a00", "bad": "#b3261e", "info": "#3d5a80", "missing": "#6b6b6b",
    "error": "#b3261e",
}
_RENDERER = "rolloutkit"
#: The environment variable that picks the charts' outputs: "static" for SVG alone, else SVG and Vega-Lite.
CHARTS_VAR = "ROLLOUTKIT_CHARTS"
#: JupyterLab (4.x) draws Vega-Lite 5 specs; the specs altair writes draw the same but for a few grid lines.
VEGALITE_MIME = "application/vnd.vegalite.v5+json"
#: Markers around the page links on the summary page; the weekly run swaps in a table with each page's status.
PAGES_START = "<!-- rolloutkit:pages -->"
PAGES_END = "<!-- /rolloutkit:pages -->"


def setup(*, interactive: bool | None = None) -> None:
    """Make altair draw through rolloutkit and polars print readable tables; call once at the top of a notebook.

    Each chart shows as SVG, plus its Vega-Lite spec when `interactive` (None: unless `ROLLOUTKIT_CHARTS` is
    "static"), so JupyterLab draws it live while a rendered page stays static.
    """
    if interactive is None:
        interactive = os.environ.get(CHARTS_VAR, "").strip().lower() != "static"
    alt.renderers.register(_RENDERER, _interactive_bundle if interactive else _static_bundle)
    alt.renderers.enable(_RENDERER)
    pl.Config.set_tbl_rows(30)
    pl.Config.set_tbl_hide_dataframe_shape(True)
    pl.Config.set_tbl_hide_column_data_types(True)
    pl.Config.set_fmt_str_lengths(80)
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/html"].for_type(pl.DataFrame, table_html)


def _static_bundle(spec: dict, **_: object) -> dict[str, str]:
    return {"image/svg+xml": svg_of(spec)}


def _interactive_bundle(spec: dict, **_: object) -> dict[str, object]:
    return {"image/svg+xml": svg_of(spec), VEGALITE_MIME: spec}


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as the SVG a page shows (for tests and for pages built outside a notebook)."""
    return svg_of(chart.to_dict())


def svg_of(spec: dict) -> str:
    """A Vega-Lite spec as the SVG a page inlines: vl-convert's drawing, minus what draws nothing.

    Dropped: each data mark's ARIA label (a copy of its tooltip text, a third of a chart's bytes), empty
    background and foreground paths, `opacity="1"` and axis labels hidden at opacity 0. Kept: every shape and
    coordinate as vl-convert wrote it, so the chart rasterises pixel for pixel the same, and the ARIA roles of
    axes, legends and titles. Element ids get a prefix of their own per chart, so two charts inlined in one page
    never point at each other's gradients or clip paths.
    """
    return _own_ids(_SKIP.sub("", _TAG.sub(_slim_tag, vlc.vegalite_to_svg(spec))))


_TAG = re.compile(r"<[a-zA-Z][^>]*>")
_MARK_ARIA = re.compile(r' (?:aria-label|aria-roledescription|role)="[^"]*"')
#: Paths that draw nothing (empty or zero-sized) and labels vega hid to avoid overlaps.
_SKIP = re.compile(r'<path class="(?:background|foreground)" aria-hidden="true" d="(?:M0,0h0v0h0Z)?"[^>]*/>'
                   r'|<text [^>]* opacity="0"[^>]*>[^<]*</text>')
_ID = re.compile(r'\bid="([^"]+)"')


def _slim_tag(match: re.Match[str]) -> str:
    tag = match.group(0)
    if 'role="graphics-symbol"' in tag:  # a data mark: its label repeats its tooltip
        tag = _MARK_ARIA.sub("", tag)
    return tag.replace(' opacity="1"', "")


def _own_ids(svg_text: str) -> str:
    ids = set(_ID.findall(svg_text))
    if not ids:
        return svg_text
    prefix = "rk" + hashlib.blake2s(svg_text.encode(), digest_size=4).hexdigest() + "-"
    refs = re.compile(r'(\bid="|url\(#|href="#)(' + "|".join(map(re.escape, sorted(ids, key=len, reverse=True)))
                      + r')(?=[")])')
    return refs.sub(lambda m: m.group(1) + prefix + m.group(2), svg_text)


def table_html(frame: pl.DataFrame, *, max_rows: int = 40) -> str:
    """A polars frame as a plain readable table: no dtypes, no quotes, numbers rounded, nulls as a dash."""
    shown = frame.head(max_rows)
    numeric = [dtype.is_numeric() for dtype in shown.dtypes]
    head = "".join(f"<th style='text-align:{'right' if num else 'left'}'>{html.escape(name.replace('_', ' '))}</th>"
                   for name, num in zip(shown.columns, numeric, strict=True))
    # Dates and short labels stay on one line; only free-text columns wrap.
    styles = [f"text-align:{'right' if num else 'left'}" + (";white-space:nowrap" if dtype.is_temporal() else "")
              for num, dtype in zip(numeric, shown.dtypes, strict=True)]
    body = "".join(
        "<tr>" + "".join(f"<td style='{style}'>{_cell(value)}</td>"
                         for value, style in zip(row, styles, strict=True)) + "</tr>"
        for row in shown.iter_rows()
    )
    more = (f"<tr><td colspan='{len(shown.columns)}' style='color:#666'>… {frame.height - max_rows} more rows"
            "</td></tr>") if frame.height > max_rows else ""
    return (f"<table class='rk-table' style='border-collapse:collapse;font-family:system-ui,sans-serif;"
            f"font-size:13px'><thead><tr style='background:#f4f4f6'>{head}</tr></thead><tbody>{body}{more}</tbody>"
            "</table>")


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return html.escape(str(value))


def banner(headline: Headline) -> HTML:
    """A coloured decision box: the first thing a stakeholder reads on a page."""
    colour = STATUS_COLOURS.get(headline.status, STATUS_COLOURS["info"])
    title, text = headline.heading or headline.title, headline.sentence
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


def note(text: str | Missing) -> HTML:
    """A muted one-line note, e.g. for a table that is missing."""
    return HTML(f"<p style='color:#555;font-style:italic'>{html.escape(str(text))}</p>")


# --- report pages -------------------------------------------------------------------------------------------------

PAGE_STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1120px;margin:0 auto;"
    "padding:16px 24px 48px;color:#1d1d1f}"
    "table{border-collapse:collapse;margin:8px 0}td,th{border-bottom:1px solid #ddd;padding:6px 10px;"
    "text-align:left;vertical-align:top}th{background:#f4f4f6}a{color:#3d5a80}"
    ".pill{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:.85em}"
)


def export_html(notebook: Path | str, target: Path | str, *, nav: str = "") -> None:
    """Executed notebook → self-contained HTML: code hidden, charts inlined as SVG, one small stylesheet, no script
    or stylesheet from another host (templates/rolloutkit)."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    body, _ = _exporter().from_notebook_node(nb, resources={"rk_nav": nav})
    Path(target).write_text(body, encoding="utf-8")


@functools.cache
def _exporter():
    """One exporter per process: a worker of the weekly run exports many pages with the same compiled template."""
    from nbconvert import HTMLExporter

    from rolloutkit.paths import TEMPLATES_DIR

    return HTMLExporter(template_name="rolloutkit", extra_template_basedirs=[str(TEMPLATES_DIR)],
                        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)


def pill(status: str, text: str | None = None) -> str:
    colour = STATUS_COLOURS.get(status, STATUS_COLOURS["info"])
    # decisions are codes in JSON (ready_for_canary) and words on a page (ready for canary)
    return f"<span class='pill' style='background:{colour}'>{html.escape((text or status).replace('_', ' '))}</span>"


def pages_block(runs: list, *, titles: dict[str, str]) -> str:
    """The week's pages with their status; a failed notebook shows its error message."""
    rows = []
    for run in runs:
        if run.notebook == "summary":
            continue
        title = html.escape(titles.get(run.notebook, run.notebook))
        if run.status == "ok":
            rows.append(f"<tr><td><a href='{run.notebook}.html'>{title}</a></td><td>{pill('good', 'rendered')}"
                        "</td><td></td></tr>")
        else:
            rows.append(f"<tr><td><a href='{run.notebook}.html'>{title}</a></td><td>{pill('bad', 'failed')}</td>"
                        f"<td>{html.escape(run.error or '')}</td></tr>")
    failed_summary = [r for r in runs if r.notebook == "summary" and r.status != "ok"]
    extra = (f"<p>{pill('bad', 'failed')} The summary page itself failed: {html.escape(failed_summary[0].error or '')}"
             f" (<a href='summary.html'>see it</a>)</p>") if failed_summary else ""
    return (f"<div class='rk-pages'>{extra}<table class='rk-table'><tr><th>Page</th><th>Status</th><th>Error</th></tr>"
            f"{''.join(rows)}</table></div>")


def page_links(titles: dict[str, str]) -> HTML:
    """Links to the other pages of the week; the weekly run replaces them with a status table."""
    items = "".join(f"<li><a href='{page}.html'>{html.escape(title)}</a></li>" for page, title in titles.items())
    return HTML(f"{PAGES_START}<ul>{items}</ul>{PAGES_END}")


def failure_page(agent: str, week: str, block: str) -> str:
    """A plain index for a week whose summary page could not be rendered."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(agent)} {week}</title>"
            f"<style>{PAGE_STYLE}</style></head><body><p><a href='../../index.html'>All agents</a></p>"
            f"<h1>{html.escape(agent)} — {week}</h1><p>{pill('bad', 'failed')} The summary page could not be "
            f"rendered; the pages below show what did.</p>{block}</body></html>")


def memo_title(memo: MemoPage) -> HTML:
    """The memo's heading: agent, ISO week and the day it runs to."""
    ws, day = memo.workspace, memo.as_of
    owner = f" · owner {html.escape(ws.charter.owner)}" if ws.charter.owner else ""
    return HTML(f"<h1 style='margin-bottom:0'>{html.escape(ws.agent)} — week {iso_week(day)}</h1>"
                f"<p style='color:#555;margin-top:4px'>Rollout memo as of {day.isoformat()} · risk tier "
                f"{ws.charter.risk_tier}{owner}</p>")


def headline_cards(headlines: list[Headline]) -> HTML:
    """One coloured line per phase: the decision first, then its sentence and a link to the page."""
    cards = []
    for h in headlines:
        colour = STATUS_COLOURS.get(h.status, STATUS_COLOURS["info"])
        label = html.escape((h.decision or h.status).replace("_", " "))
        cards.append(
            f"<div style='border-left:6px solid {colour};background:{colour}12;padding:8px 12px;margin:6px 0;"
            f"border-radius:4px;font-family:system-ui,sans-serif'><b>{html.escape(h.title)}</b> "
            f"<span class='pill' style='background:{colour};color:#fff;padding:1px 8px;border-radius:10px'>{label}"
            f"</span><div style='margin-top:3px'>{html.escape(h.sentence)} "
            f"<a href='{h.page}.html'>Details &rsaquo;</a></div></div>")
    return HTML("".join(cards))
